#include "common/json/json.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <vector>

namespace jobgate::json {

namespace {

const value* find_member(const value& object, std::string_view name) {
  if (!object.IsObject()) {
    return nullptr;
  }
  const auto member = object.FindMember(value(rapidjson::StringRef(name.data(), name.size())));
  return member == object.MemberEnd() ? nullptr : &member->value;
}

}  // namespace

boost::system::result<document, parse_error> parse(std::string_view text) {
  // RapidJSON reads a NUL byte as the end of the input, so bytes after one would pass unseen. JSON
  // text never contains a raw NUL, not even inside a string.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return parse_error{"the document contains a NUL byte", nul};
  }
  document parsed;
  parsed.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (parsed.HasParseError()) {
    // RapidJSON's messages are sentences; the phrase goes inside longer messages.
    std::string message = rapidjson::GetParseError_En(parsed.GetParseError());
    if (!message.empty() && message.back() == '.') {
      message.pop_back();
    }
    return parse_error{std::move(message), parsed.GetErrorOffset()};
  }
  return parsed;
}

std::string serialize(const value& node) {
  rapidjson::StringBuffer buffer;
  writer out(buffer);
  node.Accept(out);
  return std::string(buffer.GetString(), buffer.GetSize());
}

namespace {

void write_canonical(writer& out, const value& node) {
  if (node.IsObject()) {
    std::vector<const value::Member*> members;
    for (const auto& member : node.GetObject()) {
      members.push_back(&member);
    }
    std::sort(members.begin(), members.end(), [](const auto* left, const auto* right) {
      return std::string_view(left->name.GetString(), left->name.GetStringLength()) <
             std::string_view(right->name.GetString(), right->name.GetStringLength());
    });
    out.StartObject();
    for (const auto* member : members) {
      out.Key(member->name.GetString(), member->name.GetStringLength());
      write_canonical(out, member->value);
    }
    out.EndObject();
  } else if (node.IsArray()) {
    out.StartArray();
    for (const auto& item : node.GetArray()) {
      write_canonical(out, item);
    }
    out.EndArray();
  } else {
    node.Accept(out);
  }
}

}  // namespace

std::string serialize_canonical(const value& node) {
  rapidjson::StringBuffer buffer;
  writer out(buffer);
  write_canonical(out, node);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<std::string_view> get_string(const value& object, std::string_view name) {
  const value* member = find_member(object, name);
  if (member == nullptr || !member->IsString()) {
    return std::nullopt;
  }
  return std::string_view(member->GetString(), member->GetStringLength());
}

std::optional<std::int64_t> get_int(const value& object, std::string_view name) {
  const value* member = find_member(object, name);
  if (member == nullptr || !member->IsInt64()) {
    return std::nullopt;
  }
  return member->GetInt64();
}

std::optional<bool> get_bool(const value& object, std::string_view name) {
  const value* member = find_member(object, name);
  if (member == nullptr || !member->IsBool()) {
    return std::nullopt;
  }
  return member->GetBool();
}

const value* get_object(const value& object, std::string_view name) {
  const value* member = find_member(object, name);
  return member != nullptr && member->IsObject() ? member : nullptr;
}

const value* get_array(const value& object, std::string_view name) {
  const value* member = find_member(object, name);
  return member != nullptr && member->IsArray() ? member : nullptr;
}

void write_string(writer& out, std::string_view name, std::string_view text) {
  out.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace jobgate::json

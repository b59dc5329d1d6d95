#include "cli/problem_text.hpp"

#include <algorithm>
#include <array>

#include "common/json/json.hpp"

namespace jobgate::cli {

namespace {

// Members that the first lines already show, or that repeat the invalid field list.
constexpr std::array<std::string_view, 8> shown_members = {
    "type", "title", "status", "detail", "instance", "invalidFields", "field", "value"};

std::string_view slug_of(std::string_view type) {
  const auto slash = type.rfind('/');
  return slash == std::string_view::npos ? type : type.substr(slash + 1);
}

// Returns the first line of a body that is not a problem document, cut to 200 bytes.
std::string excerpt(std::string_view body) {
  body = body.substr(0, body.find_first_of("\r\n"));
  if (body.size() > 200) {
    return std::string(body.substr(0, 200)) + "...";
  }
  return std::string(body);
}

void render_field(std::string& text, std::string_view field, std::string_view detail,
                  std::string_view problem_detail, const std::string_view* value) {
  text += "  invalid field " + std::string(field);
  if (!detail.empty() && detail != problem_detail) {
    text += ": " + std::string(detail);
  }
  if (value != nullptr) {
    text += " (value '" + std::string(*value) + "')";
  }
  text += '\n';
}

}  // namespace

std::string render_problem(unsigned status, std::string_view body) {
  auto parsed = json::parse(body);
  const json::value* problem = parsed && parsed->IsObject() ? &*parsed : nullptr;
  const auto title = problem ? json::get_string(*problem, "title") : std::nullopt;
  if (!title) {
    std::string text = "jobgate: the gateway returned HTTP " + std::to_string(status);
    const std::string start = excerpt(body);
    text += start.empty() ? "\n" : ": " + start + "\n";
    return text;
  }

  std::string text = "jobgate: " + std::string(*title) + " (HTTP " + std::to_string(status);
  if (const auto type = json::get_string(*problem, "type")) {
    text += " " + std::string(slug_of(*type));
  }
  text += ")\n";
  const std::string_view detail = json::get_string(*problem, "detail").value_or("");
  if (!detail.empty()) {
    text += "  " + std::string(detail) + "\n";
  }

  // Each invalid field: from invalidFields when present, else from the field member.
  const json::value* fields = json::get_array(*problem, "invalidFields");
  if (fields != nullptr && !fields->Empty()) {
    for (const auto& entry : fields->GetArray()) {
      const auto field = json::get_string(entry, "field");
      if (!field) {
        continue;
      }
      const auto value = json::get_string(entry, "value");
      const std::string_view value_text = value.value_or("");
      render_field(text, *field, json::get_string(entry, "detail").value_or(""), detail,
                   value ? &value_text : nullptr);
    }
  } else if (const auto field = json::get_string(*problem, "field")) {
    const auto value = json::get_string(*problem, "value");
    const std::string_view value_text = value.value_or("");
    render_field(text, *field, "", detail, value ? &value_text : nullptr);
  }

  // Extension members such as jobStatus or maxBytes, in the order sent.
  for (const auto& member : problem->GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (std::find(shown_members.begin(), shown_members.end(), name) != shown_members.end()) {
      continue;
    }
    if (member.value.IsString()) {
      text += "  " + std::string(name) + ": " +
              std::string(member.value.GetString(), member.value.GetStringLength()) + "\n";
    }
  }
  return text;
}

}  // namespace jobgate::cli

#include "gateway/admin/admin_runner.hpp"

#include <iomanip>

#include "common/clock.hpp"
#include "common/json/json.hpp"
#include "common/tenants/tenant_limits.hpp"

namespace jobgate::admin {

namespace {

constexpr std::string_view unshown_key_note =
    "Store this key now: it cannot be shown again, only revoked.";

// Builds one JSON document on a writer and returns its text.
class json_text {
 public:
  json::writer& out() { return writer_; }
  std::string str() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  json::writer writer_{buffer_};
};

void write_limits(json::writer& out, std::string_view name,
                  const std::vector<std::pair<std::string, std::string>>& values) {
  out.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  out.StartObject();
  for (const auto& [field, value] : values) {
    out.Key(field.c_str(), static_cast<rapidjson::SizeType>(field.size()));
    out.Int64(std::stoll(value));
  }
  out.EndObject();
}

std::vector<std::pair<std::string, std::string>> builtin_defaults() {
  const tenants::tenant_limits defaults;
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& field : tenants::limit_fields()) {
    values.emplace_back(field.name, std::to_string(defaults.*field.member));
  }
  return values;
}

void print_tenant(const tenants::tenant_record& tenant, bool as_json, std::ostream& out) {
  if (as_json) {
    json_text text;
    auto& writer = text.out();
    writer.StartObject();
    json::write_string(writer, "name", tenant.name);
    json::write_string(writer, "description", tenant.description);
    json::write_string(writer, "createdAt", format_timestamp(tenant.created_at));
    write_limits(writer, "limits", tenant.overrides);
    write_limits(writer, "defaults", builtin_defaults());
    writer.EndObject();
    out << text.str() << "\n";
    return;
  }
  out << "tenant:      " << tenant.name << "\n"
      << "created:     " << format_timestamp(tenant.created_at) << "\n"
      << "description: " << tenant.description << "\n"
      << "limits (a value of its own, or the built-in default that a gateway or worker setting "
         "may replace):\n";
  const tenants::tenant_limits defaults;
  for (const auto& field : tenants::limit_fields()) {
    std::string value = "default (" + std::to_string(defaults.*field.member) + ")";
    for (const auto& [name, own] : tenant.overrides) {
      if (name == field.name) {
        value = own;
      }
    }
    const bool off = value == "0" || (value.starts_with("default") && defaults.*field.member == 0);
    out << "  " << std::left << std::setw(20) << field.name << value << " " << field.unit
        << (off && field.min == 0 ? " (off)" : "") << "\n";
  }
}

void print_tenants(const std::vector<tenants::tenant_record>& list, bool as_json,
                   std::ostream& out) {
  if (as_json) {
    json_text text;
    auto& writer = text.out();
    writer.StartObject();
    writer.Key("tenants");
    writer.StartArray();
    for (const auto& tenant : list) {
      writer.StartObject();
      json::write_string(writer, "name", tenant.name);
      json::write_string(writer, "description", tenant.description);
      json::write_string(writer, "createdAt", format_timestamp(tenant.created_at));
      writer.EndObject();
    }
    writer.EndArray();
    writer.EndObject();
    out << text.str() << "\n";
    return;
  }
  out << std::left << std::setw(26) << "NAME" << std::setw(26) << "CREATED"
      << "DESCRIPTION\n";
  for (const auto& tenant : list) {
    out << std::left << std::setw(26) << tenant.name << std::setw(26)
        << format_timestamp(tenant.created_at) << tenant.description << "\n";
  }
}

void write_key_fields(json::writer& writer, const tenants::api_key_record& key) {
  json::write_string(writer, "id", key.id);
  json::write_string(writer, "tenant", key.tenant);
  json::write_string(writer, "label", key.label);
  json::write_string(writer, "createdAt", format_timestamp(key.created_at));
}

void print_new_key(const tenants::created_api_key& created, bool as_json, std::ostream& out,
                   std::ostream& err) {
  if (as_json) {
    json_text text;
    auto& writer = text.out();
    writer.StartObject();
    write_key_fields(writer, created.record);
    json::write_string(writer, "key", created.key);
    writer.EndObject();
    out << text.str() << "\n";
    // The note goes to stderr, so stdout stays one JSON document.
    err << unshown_key_note << "\n";
    return;
  }
  out << "Created API key " << created.record.id << " for tenant " << created.record.tenant << ":\n"
      << created.key << "\n"
      << unshown_key_note << "\n";
}

void print_keys(const std::vector<tenants::api_key_record>& keys, bool as_json, std::ostream& out) {
  if (as_json) {
    json_text text;
    auto& writer = text.out();
    writer.StartObject();
    writer.Key("keys");
    writer.StartArray();
    for (const auto& key : keys) {
      writer.StartObject();
      write_key_fields(writer, key);
      writer.EndObject();
    }
    writer.EndArray();
    writer.EndObject();
    out << text.str() << "\n";
    return;
  }
  out << std::left << std::setw(20) << "ID" << std::setw(26) << "CREATED"
      << "LABEL\n";
  for (const auto& key : keys) {
    out << std::left << std::setw(20) << key.id << std::setw(26) << format_timestamp(key.created_at)
        << key.label << "\n";
  }
}

// Describes a failure in one line that names what to do next.
std::string describe_failure(const admin_command& command, const boost::system::error_code& error) {
  const std::string tenant = "'" + command.tenant + "'";
  if (error == tenants::store_errc::tenant_not_found) {
    return "tenant " + tenant + " not found; create it with: jobgate-admin tenant create " +
           command.tenant;
  }
  if (error == tenants::store_errc::tenant_exists) {
    return "tenant " + tenant +
           " already exists; change its limits with: jobgate-admin tenant "
           "set " +
           command.tenant + " --LIMIT VALUE";
  }
  if (error == tenants::store_errc::key_not_found) {
    return "tenant " + tenant + " has no API key '" + command.key_id +
           "'; list its keys with: jobgate-admin key list " + command.tenant;
  }
  if (error.category() == tenants::store_category()) {
    return error.message();
  }
  return "Redis command failed: " + error.message();
}

// Prints a successful result with `print`, or returns its error.
template <typename Result, typename Print>
boost::system::error_code print_result(const Result& result, Print print) {
  if (!result) {
    return result.error();
  }
  print(*result);
  return {};
}

void print_revoked(const admin_command& command, std::ostream& out) {
  if (command.json) {
    json_text text;
    text.out().StartObject();
    json::write_string(text.out(), "id", command.key_id);
    json::write_string(text.out(), "tenant", command.tenant);
    text.out().Key("revoked");
    text.out().Bool(true);
    text.out().EndObject();
    out << text.str() << "\n";
    return;
  }
  out << "Revoked API key " << command.key_id << " of tenant " << command.tenant
      << ". Gateways reject it once their 5-second cache entry expires.\n";
}

}  // namespace

int run_admin_command(const admin_command& command, tenants::tenant_store& store, std::ostream& out,
                      std::ostream& err) {
  const auto show_tenant = [&](const tenants::tenant_record& tenant) {
    print_tenant(tenant, command.json, out);
  };
  boost::system::error_code failure;
  switch (command.action) {
    case admin_action::tenant_create:
      failure = store.create_tenant(command.tenant, command.description, command.limits).error();
      if (!failure) {
        failure = print_result(store.find_tenant(command.tenant), show_tenant);
      }
      break;
    case admin_action::tenant_set:
      failure = store.change_limits(command.tenant, command.limits).error();
      if (!failure) {
        failure = print_result(store.find_tenant(command.tenant), show_tenant);
      }
      break;
    case admin_action::tenant_show:
      failure = print_result(store.find_tenant(command.tenant), show_tenant);
      break;
    case admin_action::tenant_list:
      failure = print_result(store.list_tenants(), [&](const auto& tenants) {
        print_tenants(tenants, command.json, out);
      });
      break;
    case admin_action::key_create:
      failure = print_result(
          store.create_key(command.tenant, command.label),
          [&](const auto& created) { print_new_key(created, command.json, out, err); });
      break;
    case admin_action::key_list:
      failure = print_result(store.list_keys(command.tenant),
                             [&](const auto& keys) { print_keys(keys, command.json, out); });
      break;
    case admin_action::key_revoke:
      failure = store.revoke_key(command.tenant, command.key_id).error();
      if (!failure) {
        print_revoked(command, out);
      }
      break;
  }
  if (failure) {
    err << "jobgate-admin: " << describe_failure(command, failure) << "\n";
    return exit_failure;
  }
  return exit_success;
}

}  // namespace jobgate::admin

#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "common/json/json.hpp"

namespace jobgate::json {

// One failed check of a document against a JSON Schema: where in the document, which schema keyword
// failed, and a sentence for the client.
struct schema_violation {
  std::string pointer;
  std::string keyword;
  std::string message;
};

// Validates documents against one JSON Schema from the proto/ folder. Immutable after construction
// and safe to use from many threads at once.
class schema_validator {
 public:
  // Loads the embedded proto file, for example "schemas/import-request.schema.json". Throws
  // std::runtime_error at start-up when the file is missing or is not a valid schema document.
  explicit schema_validator(std::string_view proto_file);
  ~schema_validator();

  schema_validator(const schema_validator&) = delete;
  schema_validator& operator=(const schema_validator&) = delete;

  boost::system::result<void, schema_violation> validate(const value& document) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace jobgate::json

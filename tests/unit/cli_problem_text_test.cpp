#include <catch2/catch.hpp>
#include <string>

#include "cli/problem_text.hpp"

using jobgate::cli::render_problem;

TEST_CASE("problem text: title, detail and invalid fields", "[cli]") {
  const std::string body =
      R"({"type":"https://jobgate.dev/problems/unknown-property",)"
      R"("title":"The request names a property the object type does not have","status":400,)"
      R"("detail":"The object type contacts has no property 'e_mail'.","instance":"/v1/imports",)"
      R"("field":"/columnMappings/0/propertyName","value":"e_mail",)"
      R"("invalidFields":[{"field":"/columnMappings/0/propertyName",)"
      R"("detail":"The object type contacts has no property 'e_mail'.","value":"e_mail"}]})";
  CHECK(render_problem(400, body) ==
        "jobgate: The request names a property the object type does not have "
        "(HTTP 400 unknown-property)\n"
        "  The object type contacts has no property 'e_mail'.\n"
        "  invalid field /columnMappings/0/propertyName (value 'e_mail')\n");
}

TEST_CASE("problem text: several invalid fields with their own details", "[cli]") {
  const std::string body =
      R"({"type":"https://jobgate.dev/problems/invalid-request","title":"Invalid","status":400,)"
      R"("detail":"Two fields are invalid.","invalidFields":[)"
      R"({"field":"/a","detail":"too long"},{"field":"/b","detail":"missing","value":"x"}]})";
  CHECK(render_problem(400, body) ==
        "jobgate: Invalid (HTTP 400 invalid-request)\n"
        "  Two fields are invalid.\n"
        "  invalid field /a: too long\n"
        "  invalid field /b: missing (value 'x')\n");
}

TEST_CASE("problem text: field member without invalidFields", "[cli]") {
  const std::string body =
      R"({"type":"https://jobgate.dev/problems/missing-part","title":"A part is missing",)"
      R"("status":400,"field":"/part","value":"files"})";
  CHECK(render_problem(400, body) ==
        "jobgate: A part is missing (HTTP 400 missing-part)\n"
        "  invalid field /part (value 'files')\n");
}

TEST_CASE("problem text: extension members", "[cli]") {
  const std::string body =
      R"({"type":"https://jobgate.dev/problems/job-not-cancelable","title":"Not cancelable",)"
      R"("status":409,"detail":"The job is DONE.","jobId":"imp_1","jobStatus":"DONE"})";
  CHECK(render_problem(409, body) ==
        "jobgate: Not cancelable (HTTP 409 job-not-cancelable)\n"
        "  The job is DONE.\n"
        "  jobId: imp_1\n"
        "  jobStatus: DONE\n");
}

TEST_CASE("problem text: body that is not a problem", "[cli]") {
  CHECK(render_problem(502, "<html>Bad gateway</html>\nmore") ==
        "jobgate: the gateway returned HTTP 502: <html>Bad gateway</html>\n");
  CHECK(render_problem(500, "") == "jobgate: the gateway returned HTTP 500\n");
  CHECK(render_problem(400, R"({"detail":"no title"})") ==
        "jobgate: the gateway returned HTTP 400: {\"detail\":\"no title\"}\n");
  const std::string long_body(300, 'x');
  CHECK(render_problem(500, long_body) ==
        "jobgate: the gateway returned HTTP 500: " + std::string(200, 'x') + "...\n");
}

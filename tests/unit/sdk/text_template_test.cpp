// siphon::TextTemplate: {{variables}} in URLs, parameters and JSON bodies.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <map>
#include <siphon/sdk.hpp>
#include <siphon/text_template.hpp>

namespace siphon {
namespace {

std::string fill(const TextTemplate& t, const std::map<std::string, std::string>& values,
                 const TextTemplate::Escape& escape = {}) {
  return t.expand(
      [&](const TextTemplate::Variable& v) {
        auto it = values.find(v.format.empty() ? v.name : v.name + ":" + v.format);
        if (it == values.end()) throw Error("no value for " + v.name);
        return it->second;
      },
      escape);
}

TEST(TextTemplate, ReplacesEachVariableWithItsValue) {
  TextTemplate t("/logs?after={{start_time:epoch_s}}&before={{ end_time : epoch_s }}&x=1");
  auto vars = t.variables();
  ASSERT_EQ(vars.size(), 2u);
  EXPECT_EQ(vars[0].name, "start_time");
  EXPECT_EQ(vars[0].format, "epoch_s");
  EXPECT_EQ(vars[1].name, "end_time");
  EXPECT_EQ(vars[1].format, "epoch_s");
  EXPECT_TRUE(t.uses("end_time"));
  EXPECT_FALSE(t.uses("cursor"));
  EXPECT_FALSE(t.is_literal());
  EXPECT_EQ(fill(t, {{"start_time:epoch_s", "10"}, {"end_time:epoch_s", "20"}}),
            "/logs?after=10&before=20&x=1");
}

TEST(TextTemplate, TextWithoutVariablesIsKeptAsItIs) {
  for (const char* text : {"", "plain", "a } b }} c", "{ \"a\": {\"b\": 1}}"}) {
    TextTemplate t(text);
    EXPECT_TRUE(t.is_literal()) << text;
    EXPECT_EQ(fill(t, {}), text);
  }
}

TEST(TextTemplate, EscapesValuesButNotTheLiteralText) {
  TextTemplate t("{\"token\":\"{{page_token}}\",\"n\":{{offset}}}");
  const std::string body =
      fill(t, {{"page_token", "a\"b\\c\n\x01"}, {"offset", "40"}}, TextTemplate::json_escape);
  EXPECT_EQ(body, "{\"token\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":40}");
  rapidjson::Document d;
  d.Parse(body.c_str());
  ASSERT_FALSE(d.HasParseError()) << body;
  EXPECT_STREQ(d["token"].GetString(), "a\"b\\c\n\x01");
  TextTemplate url("/x/{{id}}?q=1");
  EXPECT_EQ(fill(url, {{"id", "a b/c"}}, [](std::string_view v) { return url_encode(v); }),
            "/x/a%20b%2Fc?q=1");
}

TEST(TextTemplate, RepeatsAreListedAndLookupErrorsPassThrough) {
  TextTemplate t("{{a}}-{{a}}");
  EXPECT_EQ(t.variables().size(), 2u);
  EXPECT_EQ(fill(t, {{"a", "x"}}), "x-x");
  EXPECT_THROW(fill(t, {}), Error);
}

TEST(TextTemplate, MistakesAreErrorsThatSayWhere) {
  auto error_of = [](const char* text) -> std::string {
    try {
      TextTemplate t(text);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of("after={{start_time"), "unclosed {{ at character 7");
  EXPECT_EQ(error_of("x{{ }}"), "empty {{}} at character 2");
  EXPECT_NE(error_of("{{start time}}").find("{{start time}} is not a variable"), std::string::npos);
  EXPECT_NE(error_of("{{a:}}").find("is not a variable"), std::string::npos);
  EXPECT_NE(error_of("{{a:b:c}}").find("is not a variable"), std::string::npos);
  EXPECT_NE(error_of("{{\"b\":1}}").find("is not a variable"), std::string::npos);
}

}  // namespace
}  // namespace siphon

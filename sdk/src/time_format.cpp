#include <cstdio>
#include <siphon/sdk.hpp>
#include <siphon/time_format.hpp>

// Calendar arithmetic is done by hand (proleptic Gregorian, UTC) so that
// neither the process locale nor TZ can change what goes on the wire.
namespace siphon::timefmt {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kSecondsPerDay = 86400;
// Years RFC 3339 / RFC 2822 can write with four digits.
constexpr int64_t kMinYear = 0;
constexpr int64_t kMaxYear = 9999;

const char* const kDayNames[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
const char* const kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct Civil {
  int64_t year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
  int weekday = 0;  // 0 = Sunday
};

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, Civil& c) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

Civil to_civil(int64_t unix_ms, const char* format_name) {
  const int64_t seconds = floor_div(unix_ms, kMsPerSecond);
  const int64_t days = floor_div(seconds, kSecondsPerDay);
  const int64_t second_of_day = seconds - days * kSecondsPerDay;
  Civil c;
  civil_from_days(days, c);
  if (c.year < kMinYear || c.year > kMaxYear) {
    throw Error(std::string("time out of range for ") + format_name + ": " +
                std::to_string(unix_ms) + " ms");
  }
  c.millis = static_cast<int>(unix_ms - seconds * kMsPerSecond);
  c.hour = static_cast<int>(second_of_day / 3600);
  c.minute = static_cast<int>(second_of_day / 60 % 60);
  c.second = static_cast<int>(second_of_day % 60);
  const int64_t weekday = (days + 4) % 7;  // 1970-01-01 was a Thursday
  c.weekday = static_cast<int>(weekday < 0 ? weekday + 7 : weekday);
  return c;
}

std::string format_rfc3339_base(const Civil& c) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", static_cast<int>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

// A cursor over the text being parsed; every failure reports the whole text.
class Scanner {
 public:
  Scanner(std::string_view text, const char* what) : text_(text), what_(what) {}

  [[noreturn]] void fail() const {
    constexpr size_t kMaxQuoted = 80;
    std::string quoted(text_.substr(0, kMaxQuoted));
    if (text_.size() > kMaxQuoted) quoted += "...";
    throw Error(std::string("not ") + what_ + ": \"" + quoted + "\"");
  }

  bool at_end() const { return pos_ == text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!accept(c)) fail();
  }
  void skip_spaces() {
    while (peek() == ' ' || peek() == '\t') ++pos_;
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  // Exactly `min_digits`..`max_digits` digits.
  int digits(size_t min_digits, size_t max_digits) {
    size_t start = pos_;
    int value = 0;
    while (pos_ - start < max_digits && is_digit(peek()))
      value = value * 10 + (text_[pos_++] - '0');
    if (pos_ - start < min_digits) fail();
    return value;
  }
  std::string_view word() {
    size_t start = pos_;
    while ((peek() >= 'A' && peek() <= 'Z') || (peek() >= 'a' && peek() <= 'z')) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  // Milliseconds of a fraction after '.', truncating further digits.
  int fraction_ms() {
    if (!is_digit(peek())) fail();
    int ms = 0;
    int scale = 100;
    while (is_digit(peek())) {
      ms += (text_[pos_++] - '0') * scale;
      scale /= 10;
    }
    return ms;
  }

 private:
  std::string_view text_;
  const char* what_;
  size_t pos_ = 0;
};

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    char y = b[i] >= 'a' && b[i] <= 'z' ? static_cast<char>(b[i] - 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

int64_t to_unix_ms(const Scanner& s, int64_t year, int month, int day, int hour, int minute,
                   int second, int millis, int offset_minutes) {
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    s.fail();
  }
  // A leap second (:60) counts as the first second of the next minute.
  const int64_t seconds = days_from_civil(year, month, day) * kSecondsPerDay + hour * 3600 +
                          minute * 60 + second - static_cast<int64_t>(offset_minutes) * 60;
  return seconds * kMsPerSecond + millis;
}

// "+hh:mm", "+hhmm" (or '-'); returns minutes east of UTC.
int numeric_offset(Scanner& s, bool colon_allowed) {
  int sign = 0;
  if (s.accept('+')) {
    sign = 1;
  } else if (s.accept('-')) {
    sign = -1;
  } else {
    s.fail();
  }
  int hours = s.digits(2, 2);
  if (colon_allowed) s.accept(':');
  int minutes = s.digits(2, 2);
  if (hours > 23 || minutes > 59) s.fail();
  return sign * (hours * 60 + minutes);
}

}  // namespace

std::string rfc2822(int64_t unix_ms) {
  const Civil c = to_civil(unix_ms, "RFC 2822");
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d -0000", kDayNames[c.weekday],
                c.day, kMonthNames[c.month - 1], static_cast<int>(c.year), c.hour, c.minute,
                c.second);
  return buf;
}

int64_t parse_rfc2822(std::string_view text) {
  Scanner s(text, "an RFC 2822 date");
  s.skip_spaces();
  // Optional day name and comma.
  if (!Scanner::is_digit(s.peek())) {
    std::string_view day_name = s.word();
    bool known = false;
    for (const char* name : kDayNames) known = known || equals_ignore_case(day_name, name);
    if (!known) s.fail();
    s.expect(',');
    s.skip_spaces();
  }
  const int day = s.digits(1, 2);
  s.skip_spaces();
  std::string_view month_name = s.word();
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (equals_ignore_case(month_name, kMonthNames[i])) month = i + 1;
  }
  if (month == 0) s.fail();
  s.skip_spaces();
  const int year = s.digits(4, 4);
  s.skip_spaces();
  const int hour = s.digits(2, 2);
  s.expect(':');
  const int minute = s.digits(2, 2);
  int second = 0;
  if (s.accept(':')) second = s.digits(2, 2);
  s.skip_spaces();
  int offset_minutes = 0;
  if (s.peek() == '+' || s.peek() == '-') {
    offset_minutes = numeric_offset(s, false);
  } else {
    std::string_view zone = s.word();
    if (!equals_ignore_case(zone, "GMT") && !equals_ignore_case(zone, "UT") &&
        !equals_ignore_case(zone, "UTC") && !equals_ignore_case(zone, "Z")) {
      s.fail();
    }
  }
  s.skip_spaces();
  if (!s.at_end()) s.fail();
  return to_unix_ms(s, year, month, day, hour, minute, second, 0, offset_minutes);
}

std::string rfc3339(int64_t unix_ms, bool millis) {
  const Civil c = to_civil(unix_ms, "RFC 3339");
  std::string out = format_rfc3339_base(c);
  if (millis) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), ".%03d", c.millis);
    out += buf;
  }
  out += 'Z';
  return out;
}

std::string rfc3339_offset(int64_t unix_ms) {
  return format_rfc3339_base(to_civil(unix_ms, "RFC 3339")) + "-00:00";
}

int64_t parse_rfc3339(std::string_view text) {
  Scanner s(text, "an RFC 3339 time");
  const int year = s.digits(4, 4);
  s.expect('-');
  const int month = s.digits(2, 2);
  s.expect('-');
  const int day = s.digits(2, 2);
  if (!s.accept('T') && !s.accept('t') && !s.accept(' ')) s.fail();
  const int hour = s.digits(2, 2);
  s.expect(':');
  const int minute = s.digits(2, 2);
  s.expect(':');
  const int second = s.digits(2, 2);
  int millis = 0;
  if (s.accept('.')) millis = s.fraction_ms();
  int offset_minutes = 0;
  if (!s.accept('Z') && !s.accept('z')) offset_minutes = numeric_offset(s, true);
  if (!s.at_end()) s.fail();
  return to_unix_ms(s, year, month, day, hour, minute, second, millis, offset_minutes);
}

}  // namespace siphon::timefmt

// The call watchdog: calls past their deadline, or past the grace period
// after a stop, are taken from their caller and handed to their handler.
#include "plugin/call_watch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "util/clock.hpp"

namespace siphon {
namespace {

struct Handled {
  std::promise<bool> stopping;  // set by the handler
  std::atomic<std::thread::id> on;
};

CallWatch::Call call_for(Handled& h, int64_t timeout_ms, const StopSignal* stop = nullptr,
                         int64_t grace_ms = 0) {
  CallWatch::Call c;
  c.deadline_ms = steady_ms() + timeout_ms;
  c.stop = stop;
  c.stop_grace_ms = grace_ms;
  c.overdue = [&h](bool stopping) {
    h.on = std::this_thread::get_id();
    h.stopping.set_value(stopping);
  };
  return c;
}

TEST(CallWatch, ACallThatReturnsInTimeStaysWithItsCaller) {
  Handled h;
  CallWatch::Call c = call_for(h, 1000);
  CallWatch::instance().add(c);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_TRUE(CallWatch::instance().remove(c));
  EXPECT_EQ(h.stopping.get_future().wait_for(std::chrono::milliseconds(300)),
            std::future_status::timeout)
      << "no handler for a call that returned";
}

TEST(CallWatch, AnOverdueCallIsTakenAndItsHandlerRunsOnAnotherThread) {
  Handled h;
  CallWatch::Call c = call_for(h, 200);
  const auto began = std::chrono::steady_clock::now();
  CallWatch::instance().add(c);
  auto handled = h.stopping.get_future();
  ASSERT_EQ(handled.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_FALSE(handled.get()) << "the deadline ran out, not a stop";
  EXPECT_GE(took, 0.19);
  EXPECT_LT(took, 2.0);
  EXPECT_NE(h.on.load(), std::this_thread::get_id());
  EXPECT_FALSE(CallWatch::instance().remove(c)) << "the caller learns its call was taken";
}

TEST(CallWatch, AStopLeavesACallItsGracePeriodThenTakesIt) {
  StopSignal stop;
  Handled h;
  CallWatch::Call c = call_for(h, 60000, &stop, 300);
  CallWatch::instance().add(c);
  auto handled = h.stopping.get_future();
  EXPECT_EQ(handled.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  const auto stopped = std::chrono::steady_clock::now();
  stop.request();
  ASSERT_EQ(handled.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count(),
            0.29);
  EXPECT_TRUE(handled.get()) << "the grace period ran out";
  EXPECT_FALSE(CallWatch::instance().remove(c));
}

TEST(CallWatch, ManyCallsAreWatchedAtOnce) {
  Handled late, quick;
  CallWatch::Call a = call_for(late, 150), b = call_for(quick, 5000);
  CallWatch::instance().add(a);
  CallWatch::instance().add(b);
  ASSERT_EQ(late.stopping.get_future().wait_for(std::chrono::seconds(5)),
            std::future_status::ready);
  EXPECT_TRUE(CallWatch::instance().remove(b)) << "only the overdue call was taken";
  EXPECT_FALSE(CallWatch::instance().remove(a));
}

}  // namespace
}  // namespace siphon

// DeliveryPool: threads that hand pages to the sinks beside the workers, so
// that an app fetches its next page while the sink takes the previous one
// (AppRunner keeps at most one page in the sink's hands per app, and commits
// its cursor as soon as the sink holds it). A task's exception reaches
// whoever gets its future.
#ifndef SIPHON_HOST_POLLER_DELIVERY_POOL_HPP
#define SIPHON_HOST_POLLER_DELIVERY_POOL_HPP

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <future>
#include <memory>

namespace siphon {

class DeliveryPool {
 public:
  explicit DeliveryPool(size_t threads) : pool_(threads == 0 ? 1 : threads) {}
  // Waits for the deliveries queued or running.
  ~DeliveryPool() { pool_.join(); }
  DeliveryPool(const DeliveryPool&) = delete;
  DeliveryPool& operator=(const DeliveryPool&) = delete;

  std::future<void> submit(std::function<void()> work) {
    auto task = std::make_shared<std::packaged_task<void()>>(std::move(work));
    std::future<void> done = task->get_future();
    boost::asio::post(pool_, [task] { (*task)(); });
    return done;
  }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace siphon

#endif

// The server's read pool: a fixed set of threads that runs what is posted,
// off the poster's thread, and finishes its queue before it is destroyed.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "server/read_pool.h"

namespace carbon::server {
namespace {

TEST(ReadPoolTest, RunsPostedWorkOnItsOwnThreadsAndDrainsTheQueueWhenDestroyed) {
  std::mutex mutex;
  std::condition_variable released;
  bool go = false;
  std::set<std::thread::id> threads;
  std::atomic<int> done{0};
  std::atomic<int> waited_in_vain{0};
  const auto poster = std::this_thread::get_id();
  {
    ReadPool pool(2);
    for (int i = 0; i < 50; ++i) {
      pool.post([&] {
        std::unique_lock lock(mutex);
        threads.insert(std::this_thread::get_id());
        // Work run by post() itself would wait here for a release that cannot come: it gives up instead.
        if (std::this_thread::get_id() == poster ||
            !released.wait_for(lock, std::chrono::seconds(30), [&] { return go; })) {
          waited_in_vain.fetch_add(1);
        }
        done.fetch_add(1);
      });
    }
    EXPECT_EQ(done.load(), 0);  // post() returned without running anything
    {
      std::lock_guard lock(mutex);
      go = true;
    }
    released.notify_all();
  }  // the destructor waits for all 50
  EXPECT_EQ(done.load(), 50);
  EXPECT_EQ(waited_in_vain.load(), 0);
  EXPECT_EQ(threads.count(poster), 0U);
  EXPECT_GE(threads.size(), 1U);
  EXPECT_LE(threads.size(), 2U);
}

TEST(ReadPoolTest, AskedForNoThreadsStartsOne) {
  std::atomic<bool> ran{false};
  {
    ReadPool pool(0);
    pool.post([&] { ran = true; });
  }
  EXPECT_TRUE(ran.load());
}

}  // namespace
}  // namespace carbon::server

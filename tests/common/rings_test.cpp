#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "common/idle_waiter.h"
#include "common/mpsc_ring.h"
#include "common/spsc_ring.h"

namespace carbon {
namespace {

TEST(MpscRingTest, FullRingRefusesWithoutBlockingAndKeepsTheValue) {
  MpscRing<int> ring(4);
  for (int i = 0; i < 4; ++i) {
    int v = i;
    ASSERT_TRUE(ring.try_push(v));
  }
  int extra = 99;
  EXPECT_FALSE(ring.try_push(extra));
  EXPECT_EQ(extra, 99);
  EXPECT_EQ(*ring.try_pop(), 0);
  EXPECT_TRUE(ring.try_push(extra));
}

TEST(MpscRingTest, RejectsCapacityThatIsNotAPowerOfTwo) {
  EXPECT_THROW(MpscRing<int>(6), std::invalid_argument);
  EXPECT_THROW(MpscRing<int>(1), std::invalid_argument);
}

TEST(MpscRingTest, ManyProducersDeliverEveryValueOnceInPerProducerOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 50'000;
  MpscRing<std::pair<int, int>> ring(1024);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&ring, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        std::pair<int, int> v{p, i};
        while (!ring.try_push(v)) std::this_thread::yield();
      }
    });
  }
  std::vector<int> next(kProducers, 0);
  int received = 0;
  while (received < kProducers * kPerProducer) {
    auto v = ring.try_pop();
    if (!v) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_EQ(v->second, next[v->first]) << "producer " << v->first << " out of order";
    ++next[v->first];
    ++received;
  }
  for (auto& t : producers) t.join();
  EXPECT_FALSE(ring.try_pop().has_value());
}

TEST(SpscRingTest, PassesValuesInOrderAcrossThreads) {
  SpscRing<std::unique_ptr<int>> ring(64);
  constexpr int kCount = 100'000;
  std::thread producer([&] {
    for (int i = 0; i < kCount; ++i) {
      auto v = std::make_unique<int>(i);
      while (!ring.try_push(v)) std::this_thread::yield();
    }
  });
  for (int expected = 0; expected < kCount;) {
    auto v = ring.try_pop();
    if (!v) continue;
    ASSERT_EQ(**v, expected);
    ++expected;
  }
  producer.join();
}

TEST(SpscRingTest, FullRingRefuses) {
  SpscRing<int> ring(2);
  int a = 1, b = 2, c = 3;
  EXPECT_TRUE(ring.try_push(a));
  EXPECT_TRUE(ring.try_push(b));
  EXPECT_FALSE(ring.try_push(c));
}

TEST(IdleWaiterTest, NotifyWakesASleepingConsumer) {
  IdleWaiter waiter;
  std::atomic<bool> work{false};
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    while (!work.load()) {
      const auto ticket = waiter.prepare_wait();
      if (!work.load()) waiter.wait(ticket);
      waiter.cancel_wait();
    }
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  work = true;
  waiter.notify();
  consumer.join();
  EXPECT_TRUE(done.load());
}

}  // namespace
}  // namespace carbon

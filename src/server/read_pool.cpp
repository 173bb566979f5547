#include "server/read_pool.h"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace carbon::server {

struct ReadPool::Threads {
  explicit Threads(std::size_t n) : pool(n) {}
  boost::asio::thread_pool pool;
};

ReadPool::ReadPool(std::size_t threads) : threads_(std::make_unique<Threads>(std::max<std::size_t>(threads, 1))) {}

ReadPool::~ReadPool() { threads_->pool.join(); }

void ReadPool::post(std::function<void()> work) { boost::asio::post(threads_->pool, std::move(work)); }

}  // namespace carbon::server

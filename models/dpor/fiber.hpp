// models/dpor/fiber.hpp — model threads as fibers on one OS thread.
//
// Every model thread runs on a boost::context::fiber (fcontext: a switch is a
// few register saves, not swapcontext's signal-mask syscall). Stacks come
// from a StackPool: one mmap'ed stack per thread slot with a guard page
// below it, allocated the first time the slot is used and reused by every
// later execution, so an execution costs no stack allocation.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>
#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace interleave::dpor {

class StackPool {
 public:
  explicit StackPool(std::size_t stack_bytes = 256 * 1024) : bytes_(round(stack_bytes)) {}
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool() {
    for (void* base : stacks_)
      if (base != nullptr) ::munmap(base, bytes_ + page());
  }

  // The stack of `slot`: mapped on first use, the same memory afterwards.
  boost::context::stack_context get(unsigned slot) {
    if (slot >= stacks_.size()) stacks_.resize(slot + 1, nullptr);
    if (stacks_[slot] == nullptr) {
      void* base = ::mmap(nullptr, bytes_ + page(), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) throw std::bad_alloc();
      ::mprotect(base, page(), PROT_NONE);  // guard page: an overflow faults
      stacks_[slot] = base;
    }
    boost::context::stack_context sc;
    sc.size = bytes_;
    sc.sp = static_cast<char*>(stacks_[slot]) + page() + bytes_;
    return sc;
  }
  // The slot's stack is held by a fiber that can never be unwound: leave
  // that memory to it and map a new stack on the slot's next use.
  void retire(unsigned slot) {
    if (slot < stacks_.size()) stacks_[slot] = nullptr;
  }
  [[nodiscard]] std::size_t mapped() const noexcept {
    std::size_t n = 0;
    for (void* s : stacks_) n += s != nullptr;
    return n;
  }

 private:
  static std::size_t page() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }
  static std::size_t round(std::size_t n) { return (n + page() - 1) / page() * page(); }
  std::size_t bytes_;
  std::vector<void*> stacks_;
};

// boost::context's StackAllocator concept over one pooled slot: deallocate
// keeps the memory for the next execution.
struct SlotStack {
  StackPool* pool;
  unsigned slot;
  boost::context::stack_context allocate() { return pool->get(slot); }
  void deallocate(boost::context::stack_context&) noexcept {}
};

}  // namespace interleave::dpor

// interleave/deadline.hpp — the one place where a timeout becomes a
// deadline on a backend's clock.
//
// Every timed wait in impl (Event::wait_for, Barrier::wait_for,
// Queue::put_for/get_for, Future::wait_for, as_completed, wait,
// ThreadPool::map, Thread::join_for, and std_sync's condition_variable) turns
// its timeout into a deadline here, so every one of them treats odd timeouts
// the same way:
//
//   negative      the primitives throw std::invalid_argument whose message
//                 names the call and the argument ("Event::wait_for: timeout
//                 must be >= 0, got -1000000 ns"). This is Python's rule for
//                 Queue.get(timeout=-1) applied everywhere (Python itself
//                 treats a negative timeout as 0 in Event.wait and
//                 Thread.join; one rule here is easier to remember, and a
//                 negative timeout is almost always an arithmetic slip that
//                 should not pass silently as "poll"). Only the backend's own
//                 condition_variable keeps std's rule: a deadline in the past
//                 is an immediate timeout.
//   zero          a poll: the condition is checked once, no wait.
//   huge          (hours::max(), duration::max(), anything past the clock's
//                 range) saturates at Clock::time_point::max(): the wait is
//                 effectively untimed. It never overflows into the past, so a
//                 huge timeout never returns early.
//
// A deadline on another clock than the backend's (Future::wait_until with a
// system_clock time point, say) is converted by the time left, saturating the
// same way; a deadline already past is an immediate timeout, not an error.
//
// The clock is the backend's (`Sync::clock`), so a checker with virtual time
// supplies its own: nothing here reads a real clock except through Clock.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace interleave::detail {

// Throws std::invalid_argument naming `who` and the argument if `d` < 0.
template <class Rep, class Period>
void require_non_negative(const std::chrono::duration<Rep, Period>& d, const char* who,
                          const char* argument = "timeout") {
  if (d < std::chrono::duration<Rep, Period>::zero()) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::duration<long double, std::nano>>(d).count();
    throw std::invalid_argument(std::string(who) + ": " + argument + " must be >= 0, got " +
                                std::to_string(static_cast<long long>(ns)) + " ns");
  }
}

// now + d on Clock, saturating at time_point::max() instead of overflowing.
// A negative d gives `now` (an immediate timeout).
template <class Clock, class Rep, class Period>
typename Clock::time_point saturating_deadline(const std::chrono::duration<Rep, Period>& d) {
  using time_point = typename Clock::time_point;
  using duration = typename Clock::duration;
  const time_point now = Clock::now();
  if (d <= std::chrono::duration<Rep, Period>::zero()) return now;
  // Room left before the clock's end, compared in long double so that
  // neither side is converted into a type it overflows.
  const duration room =
      now.time_since_epoch() >= duration::zero() ? time_point::max() - now : duration::max();
  using wide = std::chrono::duration<long double, std::nano>;
  if (wide(d) >= wide(room)) return time_point::max();
  const duration step = std::chrono::ceil<duration>(d);  // never a shorter wait than asked
  if (step >= room) return time_point::max();
  return now + step;
}

// The deadline of a primitive's timed wait: require_non_negative, then
// saturating_deadline.
template <class Clock, class Rep, class Period>
typename Clock::time_point deadline_after(const std::chrono::duration<Rep, Period>& timeout,
                                          const char* who) {
  require_non_negative(timeout, who);
  return saturating_deadline<Clock>(timeout);
}

// A deadline given on any clock, as a deadline on Clock (by the time left).
template <class Clock, class OtherClock, class Dur>
typename Clock::time_point to_clock(const std::chrono::time_point<OtherClock, Dur>& t) {
  using time_point = typename Clock::time_point;
  using wide = std::chrono::duration<long double, std::nano>;
  if constexpr (std::is_same_v<OtherClock, Clock>) {
    if constexpr (std::is_same_v<Dur, typename Clock::duration>) {
      return t;
    } else {
      const wide w(t.time_since_epoch());
      if (w >= wide(time_point::max().time_since_epoch())) return time_point::max();
      if (w <= wide(time_point::min().time_since_epoch())) return time_point::min();
      return time_point(std::chrono::ceil<typename Clock::duration>(t.time_since_epoch()));
    }
  } else {
    if (t == std::chrono::time_point<OtherClock, Dur>::max()) return time_point::max();
    // The time left, in long double so that a far deadline does not wrap.
    const wide left = wide(t.time_since_epoch()) - wide(OtherClock::now().time_since_epoch());
    return saturating_deadline<Clock>(left);
  }
}

}  // namespace interleave::detail

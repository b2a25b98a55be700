// statiq/core/diagnostics.hpp — how a broken rule becomes ONE compile error whose first line
// names the rule, the layer and the numbers: each rule is a class template in statiq::diag
// (declared next to the check that uses it) instantiated only for the first failing rule.
#pragma once

namespace statiq::diag {

template <class...>
inline constexpr bool always_false = false;

// A requirement: Ok says whether it holds; Diagnostic is the diag:: class template
// specialisation to instantiate (and so to report) when it does not.
template <bool Ok, class Diagnostic>
struct rule {
  static constexpr bool ok = Ok;
  using diagnostic = Diagnostic;
};

// Instantiates the diagnostic of the first failing rule only, so the user reads one message
// (Boost.Hana's "check once, then stop"). Returns whether all rules hold.
template <class R, class... Rs>
constexpr bool report_first() {
  if constexpr (!R::ok) {
    return R::diagnostic::ok;  // instantiating the diagnostic fires its static_assert
  } else if constexpr (sizeof...(Rs) > 0) {
    return report_first<Rs...>();
  } else {
    return true;
  }
}

}  // namespace statiq::diag

// Declares statiq::diag::NAME<PARAMS...>: a failing rule whose message is MESSAGE. The
// template parameters are what the compiler shows: the layer name and the numbers.
#define STATIQ_DIAGNOSTIC(NAME, MESSAGE, ...)                                      \
  template <__VA_ARGS__>                                                           \
  struct NAME {                                                                    \
    static_assert(::statiq::diag::always_false<NAME>, "statiq: " MESSAGE);         \
    static constexpr bool ok = false;                                              \
  }

// statiq/core/diagnostics.hpp — how a broken rule becomes ONE compile error whose first line
// names the rule, the layer and the numbers: each rule is a class template in statiq::diag
// (declared next to the check that uses it) instantiated only for the first failing rule.
//
// Validity is computed silently and reported from one place (Boost.Hana's "check once, then
// stop"): a check returns a verdict, whose type names the diagnostic of the first failing rule
// without instantiating it; the layer reads verdict.ok for its `valid` and instantiates the
// diagnostic in one static_assert of its own (STATIQ_REPORT). Nothing else depends on the
// failing class, so neither g++ nor clang piles further errors on top of it.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "statiq/core/fixed_string.hpp"

namespace statiq::diag {

template <class...>
inline constexpr bool always_false = false;

// A name as a pack of characters: clang 14 prints a fixed_string template argument as character
// codes ({{99, 111, 110, 118, 49, 0}}) but a char pack as text (spelled<'c', 'o', 'n', 'v', '1'>),
// so each diagnostic's static_assert shows its layer this way too (g++ shows the fixed_string).
template <char... C>
struct spelled {};

namespace verdicts {
template <fixed_string S, class I = std::make_index_sequence<S.size()>>
struct spell;
template <fixed_string S, std::size_t... I>
struct spell<S, std::index_sequence<I...>> {
  using type = spelled<S.data[I]...>;
};
}  // namespace verdicts

template <fixed_string S>
using spelled_name = typename verdicts::spell<S>::type;

// What a verdict carries when every rule holds.
struct no_diagnostic {};

// A requirement: Ok says whether it holds; Diagnostic is the diag:: class template
// specialisation to instantiate (and so to report) when it does not.
template <bool Ok, class Diagnostic>
struct rule {
  static constexpr bool ok = Ok;
  using diagnostic = Diagnostic;
};

// The outcome of a check: Diagnostic is no_diagnostic, or the first failing rule's diagnostic
// (named, not instantiated). Tested with `if constexpr (!v)` or v.ok.
template <class Diagnostic>
struct verdict {
  using diagnostic = Diagnostic;
  static constexpr bool ok = std::is_same_v<Diagnostic, no_diagnostic>;
  constexpr explicit operator bool() const { return ok; }
};

inline constexpr verdict<no_diagnostic> holds{};

namespace verdicts {
template <class... Rs>
struct first_failing {
  using type = no_diagnostic;
};
template <class R, class... Rs>
struct first_failing<R, Rs...> {
  using type = typename std::conditional_t<R::ok, first_failing<Rs...>,
                                           std::type_identity<typename R::diagnostic>>::type;
};
template <class... Vs>
struct first_failed_verdict {
  using type = verdict<no_diagnostic>;
};
template <class V, class... Vs>
struct first_failed_verdict<V, Vs...> {
  using type = std::conditional_t<V::ok, typename first_failed_verdict<Vs...>::type, V>;
};
}  // namespace verdicts

// The verdict of a list of rules: the first failing one's diagnostic, or none.
template <class... Rs>
constexpr auto report_first() {
  return verdict<typename verdicts::first_failing<Rs...>::type>{};
}

// The first failed of several verdicts (types), or the verdict that holds.
template <class... Vs>
using first_failed = typename verdicts::first_failed_verdict<std::remove_cvref_t<Vs>...>::type;

}  // namespace statiq::diag

// Declares statiq::diag::NAME<PARAMS...>: a failing rule whose message is MESSAGE. The
// template parameters are what the compiler shows: the layer name and the numbers. PARAMS must
// name the layer `fixed_string Layer` (it is shown spelled out too, for clang).
#define STATIQ_DIAGNOSTIC(NAME, MESSAGE, ...) \
  STATIQ_DIAGNOSTIC_SHOWING(NAME, ::statiq::diag::spelled_name<Layer>, MESSAGE, __VA_ARGS__)

// The same, for a rule about something other than a layer: SHOWN is a type the static_assert's
// condition shows beside the rule (e.g. ::statiq::diag::spelled_name<Target>).
// The message ends with the parameters' declarations, so the values clang prints in order (it
// names no template parameter) can be read against their names. The static_assert sits in a
// member function whose return type is deduced, so instantiating NAME instantiates it, and g++
// names every parameter beside its value in the error's first line:
//   In instantiation of '... statiq::diag::accumulator_may_overflow<...>::report() [with ...
//   Layer = statiq::fixed_string<4>{"fc1"}; long long int worst_case = 2147516160; ...]'
#define STATIQ_DIAGNOSTIC_SHOWING(NAME, SHOWN, MESSAGE, ...)                          \
  template <__VA_ARGS__>                                                              \
  struct NAME {                                                                       \
    static constexpr auto report() {                                                  \
      static_assert(::statiq::diag::always_false<NAME, SHOWN>,                        \
                    "statiq: " MESSAGE " [arguments: " #__VA_ARGS__ "]");            \
      return false;                                                                   \
    }                                                                                 \
    using reported = decltype(report());                                              \
    static constexpr bool ok = false;                                                 \
  }

// Reports a verdict (a constexpr object at class scope): instantiates its diagnostic, which fires
// the rule's static_assert when the verdict failed. The only place a diagnostic is instantiated.
#define STATIQ_REPORT(VERDICT) \
  static_assert(sizeof(typename std::remove_cvref_t<decltype(VERDICT)>::diagnostic) > 0)

// statiq/core/fail.hpp — STATIQ_FAIL(exception type, message): how a parameter derivation rejects
// its input. It throws where exceptions exist (the host, the generator); built without them
// (-fno-exceptions, a microcontroller) the program stops, and the message is not even built.
#pragma once

#include <cstdlib>

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define STATIQ_FAIL(exception, message) throw exception(message)
#else
// Derivations run in the generator; an engine only reads their results, so reaching this on a
// device means a hand-written model derived a parameter from bad scales: check them on a host.
#define STATIQ_FAIL(exception, message) std::abort()
#endif

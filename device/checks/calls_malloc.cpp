// device/checks/calls_malloc.cpp — must not link: the boards have no heap (checks/CMakeLists.txt).
#include <cstdlib>

int main() {
  volatile std::size_t bytes = 64;
  void* volatile p = std::malloc(bytes);
  return p != nullptr ? 0 : 1;
}

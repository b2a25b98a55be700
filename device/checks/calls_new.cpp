// device/checks/calls_new.cpp — must not link: the boards have no heap (checks/CMakeLists.txt).
int main() {
  volatile int n = 16;
  int* volatile p = new int[n];
  return p[0];
}

// statiq/kernels/reference/reference.hpp — all scalar reference kernels: the definition of the
// integer computation, shared by the layer types (constant dims) and the generator (runtime dims).
#pragma once

#include "statiq/kernels/reference/concat.hpp"
#include "statiq/kernels/reference/conv2d.hpp"
#include "statiq/kernels/reference/dense.hpp"
#include "statiq/kernels/reference/pooling.hpp"

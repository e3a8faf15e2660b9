/**
 * The differentiable operations of Tessera, one class per op with its forward and backward side
 * by side. Every class here is listed in {@link dev.tessera.autograd.FunctionCatalog} and has a
 * gradient-check property in the test suite.
 */
package dev.tessera.autograd.functions;

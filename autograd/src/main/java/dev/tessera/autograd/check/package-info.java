/**
 * Gradient checking users can run on their own ops: {@link dev.tessera.autograd.check.GradCheck}
 * (central differences in F64) and jqwik arbitraries for shapes, broadcast pairs and tensors in
 * {@link dev.tessera.autograd.check.GradArbitraries}.
 */
package dev.tessera.autograd.check;

/**
 * Reverse-mode automatic differentiation over tensor-core's NDArrays: {@link dev.tessera.autograd.Tensor}
 * (an NDArray plus requiresGrad, grad and the Function that made it), {@link dev.tessera.autograd.Function}
 * (one op's forward and backward side by side), the backward engine, {@link dev.tessera.autograd.NoGrad}
 * scopes, the {@link dev.tessera.autograd.FunctionCatalog} and the fused {@link dev.tessera.autograd.AdamW} update.
 */
package dev.tessera.autograd;

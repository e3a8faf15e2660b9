package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

/**
 * Matrix product with torch.matmul's rules: a [..., M, K] @ b [..., K, N] -> [..., M, N], batch
 * dims broadcast, a 1-D a is a row [K] and a 1-D b a column [K]. Backward: ga = g @ b^T and
 * gb = a^T @ g (transposes read in place), summed over broadcast batch dims.
 */
public final class MatMul extends Function {
    @Override
    protected NDArray forward(NDArray... in) {
        saveForBackward(in[0], in[1]);
        return in[0].matmul(in[1]);
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray a = saved(0), b = saved(1);
        boolean rowA = a.rank() == 1, colB = b.rank() == 1;
        NDArray a2 = rowA ? a.unsqueeze(0) : a;
        NDArray b2 = colB ? b.unsqueeze(1) : b;
        NDArray g2 = g;
        if (rowA) g2 = g2.unsqueeze(g2.rank() - 1);
        if (colB) g2 = g2.unsqueeze(g2.rank());
        NDArray ga = null, gb = null;
        if (needsInputGrad(0)) ga = sumToShape(g2.matmul(b2.mT()), a2.shape()).reshape(a.shape());
        if (needsInputGrad(1)) gb = sumToShape(a2.mT().matmul(g2), b2.shape()).reshape(b.shape());
        return new NDArray[] {ga, gb};
    }
}

package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;

import java.util.Arrays;

/** Concatenation along dim (other dims equal). Backward hands each input its window of the gradient. */
public final class Cat extends Function {
    private final int dim;
    private int[] sizes;
    private int d;

    public Cat(int dim) { this.dim = dim; }

    @Override
    protected NDArray forward(NDArray... in) {
        if (in.length == 0) throw new IllegalArgumentException("cat: no tensors given");
        NDArray out = NDArray.cat(dim, Arrays.asList(in));
        d = dim < 0 ? dim + out.rank() : dim;
        sizes = new int[in.length];
        for (int i = 0; i < in.length; i++) sizes[i] = in[i].size(d);
        return out;
    }

    @Override
    protected NDArray[] backward(NDArray g) {
        NDArray[] out = new NDArray[sizes.length];
        int pos = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (needsInputGrad(i)) out[i] = g.narrow(d, pos, sizes[i]);
            pos += sizes[i];
        }
        return out;
    }
}

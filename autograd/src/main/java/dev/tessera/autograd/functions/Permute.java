package dev.tessera.autograd.functions;

import dev.tessera.autograd.Function;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;

/** Reorders dims (output dim i is input dim perm[i]) as a view; transpose is a permute. Backward applies the inverse permutation. */
public final class Permute extends Function {
    private final int[] perm;

    public Permute(int... perm) { this.perm = perm.clone(); }

    /** The permutation that swaps d0 and d1 of a rank-r array. */
    public static Permute transpose(int rank, int d0, int d1) {
        int a = Shapes.dim("transpose", d0, rank), b = Shapes.dim("transpose", d1, rank);
        int[] p = new int[rank];
        for (int i = 0; i < rank; i++) p[i] = i;
        p[a] = b;
        p[b] = a;
        return new Permute(p);
    }

    @Override
    protected NDArray forward(NDArray... in) { return in[0].permute(perm); }

    @Override
    protected NDArray[] backward(NDArray g) {
        int[] inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) inverse[Shapes.dim("permute", perm[i], perm.length)] = i;
        return new NDArray[] {g.permute(inverse)};
    }
}

package dev.tessera.autograd.check;

import dev.tessera.autograd.Function;
import dev.tessera.autograd.Tensor;
import dev.tessera.tensor.NDArray;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** What a user writes to check a custom op: the README example, kept compiling and passing here. */
class CustomFunctionProperties {
    /** A user's op: softplus(x) = log(1 + e^x), written with NDArray ops. */
    static final class Softplus extends Function {
        @Override protected NDArray forward(NDArray... in) {
            saveForBackward(in[0]);
            return in[0].exp().add(1.0).log();
        }
        @Override protected NDArray[] backward(NDArray g) {
            return new NDArray[] {g.mul(saved(0).sigmoid())};
        }
    }

    @Property(tries = 30)
    void softplusGradient(@ForAll("inputs") Tensor x) {
        GradCheck.ofFunction(Softplus::new).verify(x);
    }

    @Provide
    Arbitrary<Tensor> inputs() { return GradArbitraries.tensors(GradArbitraries.shapes()); }

    /** A broadcasting user op of two inputs: a * sigmoid(b). */
    @Property(tries = 30)
    void gatedProductGradient(@ForAll("pairs") Tensor[] ab) {
        GradCheck.of(in -> in[0].mul(in[1].sigmoid())).verify(ab);
    }

    @Provide
    Arbitrary<Tensor[]> pairs() { return GradArbitraries.broadcastTensorPairs(); }
}

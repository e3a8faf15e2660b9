package dev.tessera.autograd;

import dev.tessera.tensor.AllocationLog;
import dev.tessera.tensor.CpuStorage;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.Shapes;
import dev.tessera.tensor.Storage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode backward pass: visits the Functions behind a root in reverse topological order,
 * accumulates output gradients per node, adds leaf gradients into {@link Tensor#grad()}, and frees
 * each node after use unless the graph is retained. Iterative, so deep graphs do not overflow the
 * stack.
 */
final class Engine {
    private Engine() {}

    static void backward(Tensor root, NDArray gradOutput, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: tensor of shape " + Shapes.str(root.shape()) + " does not require grad and has no grad function "
                    + "(was it computed inside NoGrad, or from inputs that do not require grad?)");
        }
        NDArray seed;
        if (gradOutput == null) {
            if (root.numel() != 1) {
                throw new IllegalArgumentException("backward: the gradient can be implicit only for one-element outputs, got shape "
                        + Shapes.str(root.shape()) + "; pass gradOutput");
            }
            seed = NDArray.full(root.device(), root.dtype(), 1.0, root.shape());
        } else {
            if (!Arrays.equals(gradOutput.shape(), root.shape())) {
                throw new IllegalArgumentException("backward: gradOutput shape " + Shapes.str(gradOutput.shape()) + " must equal the output shape " + Shapes.str(root.shape()));
            }
            root.data().sameDevice("backward", gradOutput);
            seed = gradOutput.to(root.dtype());
        }
        Function rootFn = root.gradFn();
        if (rootFn == null) {
            root.accumulateGrad(seed);
            return;
        }
        if (root.retainsGrad()) root.accumulateGrad(seed);
        List<Function> order = topologicalOrder(rootFn);
        Map<Function, NDArray> pending = new IdentityHashMap<>();
        pending.put(rootFn, seed);
        List<Tensor> gradReceivers = new ArrayList<>();
        try (AllocationLog log = AllocationLog.start(); NoGrad g = NoGrad.enter()) {
            for (int k = order.size() - 1; k >= 0; k--) {
                Function fn = order.get(k);
                NDArray gradOut = pending.remove(fn);
                if (gradOut == null) {
                    // No gradient flowed into this node (all its consumers returned null for it).
                    if (!retainGraph) fn.free();
                    continue;
                }
                Tensor[] inputs = fn.inputs();
                NDArray[] grads = fn.runBackward(gradOut);
                if (grads == null || grads.length != inputs.length) {
                    throw new IllegalStateException(fn.name() + ": backward returned " + (grads == null ? "null" : grads.length + " gradients")
                            + " for " + inputs.length + " inputs");
                }
                for (int i = 0; i < inputs.length; i++) {
                    Tensor in = inputs[i];
                    NDArray gi = grads[i];
                    if (gi == null || !in.requiresGrad()) continue;
                    if (!Arrays.equals(gi.shape(), in.shape())) {
                        throw new IllegalStateException(fn.name() + ": backward gave input " + i + " a gradient of shape " + Shapes.str(gi.shape())
                                + ", but the input has shape " + Shapes.str(in.shape()));
                    }
                    Function producer = in.gradFn();
                    if (producer == null || in.retainsGrad()) {
                        in.accumulateGrad(gi);
                        gradReceivers.add(in);
                    }
                    if (producer != null) {
                        NDArray prev = pending.get(producer);
                        pending.put(producer, prev == null ? gi : prev.add(gi));
                    }
                }
                if (!retainGraph) fn.free();
            }
            releaseTemporaries(log, gradReceivers);
        }
    }

    /**
     * Closes every CPU storage made during this backward pass except the gradients now held by
     * tensors: intermediate gradients and kernel temporaries, which nothing else can reach (arrays
     * made before the pass, such as saved activations or the caller's gradOutput, were not logged).
     * Their arrays go back to the CPU array pool, so the next step's backward reuses cached memory
     * instead of fresh, zeroed arrays.
     */
    private static void releaseTemporaries(AllocationLog log, List<Tensor> gradReceivers) {
        Set<Storage> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : gradReceivers) {
            NDArray grad = t.grad();
            if (grad != null) keep.add(grad.storage());
        }
        for (CpuStorage s : log.storages()) {
            if (!keep.contains(s)) s.close();
        }
    }

    /** Functions reachable from root, parents before children (root last). */
    private static List<Function> topologicalOrder(Function root) {
        List<Function> order = new ArrayList<>();
        Map<Function, Boolean> visited = new IdentityHashMap<>();
        Deque<Object[]> stack = new ArrayDeque<>();
        // Each frame: {function, next input index (int[1])}
        visited.put(root, Boolean.TRUE);
        stack.push(new Object[] {root, new int[] {0}});
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Function fn = (Function) frame[0];
            int[] next = (int[]) frame[1];
            Tensor[] inputs = fn.inputs();
            boolean descended = false;
            while (next[0] < inputs.length) {
                Tensor in = inputs[next[0]++];
                Function p = in.gradFn();
                if (p != null && in.requiresGrad() && visited.put(p, Boolean.TRUE) == null) {
                    stack.push(new Object[] {p, new int[] {0}});
                    descended = true;
                    break;
                }
            }
            if (!descended) {
                stack.pop();
                order.add(fn);
            }
        }
        return order;
    }

    /** Converts a gradient to the tensor's dtype; a fresh array the tensor may own. */
    static NDArray ownedGrad(NDArray g, DType dtype) {
        return g.dtype() == dtype ? g.copy() : g.to(dtype);
    }
}

package dev.tessera.autograd;

import dev.tessera.autograd.functions.Add;
import dev.tessera.autograd.functions.Cat;
import dev.tessera.autograd.functions.Copy;
import dev.tessera.autograd.functions.CrossEntropy;
import dev.tessera.autograd.functions.Div;
import dev.tessera.autograd.functions.Embedding;
import dev.tessera.autograd.functions.Expand;
import dev.tessera.autograd.functions.Gather;
import dev.tessera.autograd.functions.Gelu;
import dev.tessera.autograd.functions.IndexAdd;
import dev.tessera.autograd.functions.IndexSelect;
import dev.tessera.autograd.functions.LayerNorm;
import dev.tessera.autograd.functions.MaskedFill;
import dev.tessera.autograd.functions.MatMul;
import dev.tessera.autograd.functions.Maximum;
import dev.tessera.autograd.functions.Mul;
import dev.tessera.autograd.functions.Narrow;
import dev.tessera.autograd.functions.Permute;
import dev.tessera.autograd.functions.Pow;
import dev.tessera.autograd.functions.Reduce;
import dev.tessera.autograd.functions.Reshape;
import dev.tessera.autograd.functions.RmsNorm;
import dev.tessera.autograd.functions.ScalarOp;
import dev.tessera.autograd.functions.ScatterAdd;
import dev.tessera.autograd.functions.Select;
import dev.tessera.autograd.functions.Slice;
import dev.tessera.autograd.functions.Softmax;
import dev.tessera.autograd.functions.Squeeze;
import dev.tessera.autograd.functions.Stack;
import dev.tessera.autograd.functions.Sub;
import dev.tessera.autograd.functions.ToDevice;
import dev.tessera.autograd.functions.Triangle;
import dev.tessera.autograd.functions.Unary;
import dev.tessera.autograd.functions.Unsqueeze;
import dev.tessera.autograd.functions.Where;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Every differentiable operation of the autograd module, one entry per op (a Function class that
 * implements several ops, such as {@link Unary} or {@link Reduce}, has one entry per op). The test
 * suite walks this list and fails when an entry has no gradient-check property, or when a
 * Function class exists that is not listed here. Modules above (attention, peft) keep their own
 * catalogs of the fused Functions they define, checked the same way.
 */
public final class FunctionCatalog {
    /** One differentiable op: a stable name and the Function class that implements it. */
    public record Entry(String name, Class<? extends Function> type, String description) {}

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

    static {
        // elementwise unary (backend unaryBackward)
        for (String op : List.of("neg", "abs", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "silu", "sin", "cos", "pow")) {
            add(op, Unary.class, "elementwise " + op);
        }
        add("gelu", Gelu.class, "fused exact GELU");
        add("geluTanh", Gelu.class, "fused tanh GELU");
        // broadcasting binary
        add("add", Add.class, "a + b, broadcasting");
        add("sub", Sub.class, "a - b, broadcasting");
        add("mul", Mul.class, "a * b, broadcasting");
        add("div", Div.class, "a / b, broadcasting");
        add("powTensor", Pow.class, "a ^ b, broadcasting");
        add("maximum", Maximum.class, "max(a, b), broadcasting");
        add("minimum", Maximum.class, "min(a, b), broadcasting");
        for (ScalarOp.Kind k : ScalarOp.Kind.values()) add("scalar" + k.name(), ScalarOp.class, "x op constant: " + k);
        // reductions
        add("sum", Reduce.class, "sum over dims");
        add("mean", Reduce.class, "mean over dims");
        add("var", Reduce.class, "population variance over dims");
        add("max", Reduce.class, "max over dims");
        add("min", Reduce.class, "min over dims");
        // views and copies
        add("reshape", Reshape.class, "reshape / view / flatten");
        add("squeeze", Squeeze.class, "remove size-1 dims");
        add("unsqueeze", Unsqueeze.class, "insert a size-1 dim");
        add("permute", Permute.class, "permute / transpose / mT");
        add("narrow", Narrow.class, "window along a dim");
        add("slice", Slice.class, "strided slice along a dim");
        add("select", Select.class, "one index along a dim");
        add("expand", Expand.class, "broadcast view");
        add("contiguous", Copy.class, "contiguous copy");
        add("clone", Copy.class, "always-copy");
        add("cast", Copy.class, "float dtype conversion");
        add("toDevice", ToDevice.class, "copy to another device");
        // linear algebra, softmax, norms
        add("matmul", MatMul.class, "batched matmul with broadcasting");
        add("softmax", Softmax.class, "fused softmax");
        add("logSoftmax", Softmax.class, "fused log-softmax");
        add("layerNorm", LayerNorm.class, "fused layer norm with weight and bias");
        add("rmsNorm", RmsNorm.class, "fused RMS norm");
        // indexing
        add("gather", Gather.class, "torch.gather");
        add("indexSelect", IndexSelect.class, "slices by 1-D index");
        add("embedding", Embedding.class, "embedding lookup");
        add("scatterAdd", ScatterAdd.class, "out-of-place scatter-add");
        add("indexAdd", IndexAdd.class, "out-of-place index-add");
        add("tril", Triangle.class, "lower triangle");
        add("triu", Triangle.class, "upper triangle");
        // joining, selecting
        add("cat", Cat.class, "concatenate");
        add("stack", Stack.class, "stack along a new dim");
        add("where", Where.class, "cond ? a : b");
        add("maskedFill", MaskedFill.class, "fill where a mask is true");
        // losses
        add("crossEntropy", CrossEntropy.class, "fused cross entropy with ignore index and label smoothing");
    }

    private FunctionCatalog() {}

    private static void add(String name, Class<? extends Function> type, String description) {
        if (ENTRIES.put(name, new Entry(name, type, description)) != null) throw new IllegalStateException("duplicate catalog entry " + name);
    }

    /** All entries, in a stable order. */
    public static List<Entry> entries() { return List.copyOf(ENTRIES.values()); }

    /** Entry names. */
    public static Set<String> names() { return ENTRIES.keySet().stream().collect(Collectors.toUnmodifiableSet()); }

    /** The distinct Function classes in the catalog. */
    public static Set<Class<? extends Function>> functionClasses() {
        return ENTRIES.values().stream().map(Entry::type).collect(Collectors.toUnmodifiableSet());
    }

    /** The entry of that name; throws listing nothing but the unknown name. */
    public static Entry get(String name) {
        Entry e = ENTRIES.get(name);
        if (e == null) throw new IllegalArgumentException("FunctionCatalog: no entry named '" + name + "'");
        return e;
    }
}

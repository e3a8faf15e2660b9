package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.tensor.testing.BackendParitySuite;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import net.jqwik.api.Property;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tests of the parity suite itself: with a faithful stand-in backend every property passes, and
 * with a backend that corrupts the output of one primitive, the property for that primitive fails.
 * (Running the suite with the reference as the backend under test would prove nothing more.)
 */
class BackendParitySuiteTest {

    @BeforeAll
    static void scalarCpu() { ScalarCpu.use(); }

    @AfterAll
    static void restore() { ScalarCpu.restore(); }

    /** Which suite property exercises each Backend method. */
    private static final Map<String, String> PROPERTY_FOR = Map.ofEntries(
            Map.entry("allocate", "hostTransfers"), Map.entry("fromHost", "hostTransfers"), Map.entry("toHost", "hostTransfers"),
            Map.entry("copy", "copyBetweenDtypes"), Map.entry("assign", "assignIntoViews"), Map.entry("fill", "fillViews"),
            Map.entry("unary", "unaryOps"), Map.entry("unaryBackward", "unaryBackwardOps"), Map.entry("binary", "binaryOps"),
            Map.entry("binaryScalar", "binaryScalarOps"), Map.entry("where", "whereSelects"), Map.entry("reduce", "reductions"),
            Map.entry("argReduce", "argReductions"), Map.entry("softmax", "softmaxAndBackward"),
            Map.entry("softmaxBackward", "softmaxAndBackward"), Map.entry("layerNorm", "layerNormForwardBackward"),
            Map.entry("layerNormBackward", "layerNormForwardBackward"), Map.entry("rmsNorm", "rmsNormForwardBackward"),
            Map.entry("rmsNormBackward", "rmsNormForwardBackward"), Map.entry("matmul", "matmulParity"),
            Map.entry("gather", "gatherParity"), Map.entry("indexSelect", "indexSelectParity"),
            Map.entry("scatterAddInPlace", "scatterAddParity"), Map.entry("indexAddInPlace", "indexAddParity"),
            Map.entry("triangle", "triangleParity"), Map.entry("crossEntropy", "crossEntropyParity"),
            Map.entry("crossEntropyBackward", "crossEntropyParity"), Map.entry("adamwStep", "adamwSteps"));

    private static final class Suite extends BackendParitySuite {
        private final Backend backend;

        Suite(Backend backend) { this.backend = backend; }

        @Override
        protected Backend backend() { return backend; }
    }

    /** A backend that forwards to the reference and, for one method, corrupts element 0 of what it produced. */
    private static Backend corrupting(String method) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, m, args) -> {
            Object result;
            try {
                result = m.invoke(ReferenceBackend.INSTANCE, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (!m.getName().equals(method)) return result;
            if (result instanceof NDArray a) corrupt(a);
            else if (result instanceof NormResult r) corrupt(r.out());
            else if (result instanceof NormGrads g) corrupt(g.input());
            else if (result instanceof CrossEntropyResult c) corrupt(c.loss());
            else if (result instanceof Storage st && st.size() > 0) corrupt(new NDArray(st, st.size()));
            else if (result != null && result.getClass().isArray() && java.lang.reflect.Array.getLength(result) > 0) {
                corrupt(new NDArray(CpuStorage.wrap(dtypeOf(result), result), java.lang.reflect.Array.getLength(result)));
            }
            else if (result == null && args != null && args[0] instanceof NDArray dst) corrupt(dst); // in-place ops
            return result;
        });
    }

    private static DType dtypeOf(Object hostArray) {
        if (hostArray instanceof float[]) return DType.F32;
        if (hostArray instanceof double[]) return DType.F64;
        if (hostArray instanceof short[]) return DType.F16;
        if (hostArray instanceof int[]) return DType.I32;
        if (hostArray instanceof long[]) return DType.I64;
        return DType.BOOL;
    }

    private static void corrupt(NDArray a) {
        if (a.numel() == 0) return;
        CpuStorage s = (CpuStorage) a.storage();
        int p = a.offset();
        if (a.dtype() == DType.BOOL) s.setLong(p, 1 - s.getLong(p));
        else if (!a.dtype().isFloating()) s.setLong(p, s.getLong(p) + 1);
        else {
            double v = s.getDouble(p);
            s.setDouble(p, Double.isFinite(v) ? v + 0.01 + 0.1 * Math.abs(v) : 0.5);
        }
    }

    private static List<Method> properties() {
        List<Method> out = new ArrayList<>();
        for (Method m : BackendParitySuite.class.getDeclaredMethods()) if (m.isAnnotationPresent(Property.class)) out.add(m);
        return out;
    }

    private static void run(BackendParitySuite suite, Method property, long seed) throws Throwable {
        try {
            property.invoke(suite, seed);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Test
    void everyBackendMethodIsCoveredByAProperty() {
        TreeSet<String> missing = new TreeSet<>();
        TreeSet<String> names = new TreeSet<>();
        for (Method m : properties()) names.add(m.getName());
        for (Method m : Backend.class.getMethods()) {
            String n = m.getName();
            if (List.of("name", "device", "describe").contains(n)) continue;
            String p = PROPERTY_FOR.get(n);
            if (p == null || !names.contains(p)) missing.add(n);
        }
        assertTrue(missing.isEmpty(), "Backend methods without a parity property: " + missing);
    }

    @Test
    void faithfulBackendPassesEveryProperty() throws Throwable {
        BackendParitySuite suite = new Suite(corrupting("none"));
        for (Method p : properties()) {
            for (long seed = 1; seed <= 6; seed++) {
                try {
                    run(suite, p, seed * 7919);
                } catch (Throwable t) {
                    throw new AssertionError(p.getName() + " seed " + seed * 7919 + " failed on a faithful backend: " + t, t);
                }
            }
        }
    }

    @Test
    void corruptingOneMethodFailsItsProperty() throws Throwable {
        List<String> undetected = new ArrayList<>();
        for (var e : PROPERTY_FOR.entrySet()) {
            BackendParitySuite suite = new Suite(corrupting(e.getKey()));
            Method property = BackendParitySuite.class.getMethod(e.getValue(), long.class);
            boolean caught = false;
            for (long seed = 1; seed <= 8 && !caught; seed++) {
                try {
                    run(suite, property, seed);
                } catch (AssertionError expected) {
                    caught = true;
                }
            }
            if (!caught) undetected.add(e.getKey() + " (" + e.getValue() + ")");
        }
        assertEquals(List.of(), undetected, "corruptions the suite did not notice");
    }

    @Test
    void failureMessagesNameTheOpAndTheIndex() throws Throwable {
        BackendParitySuite suite = new Suite(corrupting("matmul"));
        try {
            run(suite, BackendParitySuite.class.getMethod("matmulParity", long.class), 3);
            fail("corrupted matmul passed");
        } catch (AssertionError e) {
            String m = e.getMessage();
            assertTrue(m.startsWith("matmul [") && m.contains("at index [") && m.contains("seed 3") && m.contains("allowed"), m);
        }
    }
}

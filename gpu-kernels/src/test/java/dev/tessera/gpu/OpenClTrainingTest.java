package dev.tessera.gpu;

import static dev.tessera.gpu.OpenClTestSupport.DEV;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.AdamW;
import dev.tessera.autograd.Tensor;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.NDArray;
import dev.tessera.tensor.testing.Approx;
import dev.tessera.tensor.testing.Approx.Tolerance;
import dev.tessera.tensor.testing.RandomArrays;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * autograd unchanged on the OpenCL device: a small MLP (linear, GELU, layer norm, linear, cross
 * entropy) trained with AdamW for 300 steps on the CPU and on the device from the same start gives
 * the same losses within float tolerance, and the same gradients at every step checked, which stay
 * on the device.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClTrainingTest {
    private static final int N = 48, IN = 20, HIDDEN = 33, CLASSES = 7, STEPS = 300;

    @BeforeAll
    void setUp() { OpenClTestSupport.requireDevice(); }

    /** w1, b1, ln weight, ln bias, w2, b2 on the given device. */
    private static List<Tensor> parameters(List<NDArray> init, Device device) {
        List<Tensor> ps = new ArrayList<>();
        for (NDArray a : init) ps.add(Tensor.parameter(a.to(device).copy()));
        return ps;
    }

    private static Tensor loss(List<Tensor> p, Tensor x, Tensor targets) {
        Tensor h = x.matmul(p.get(0)).add(p.get(1)).gelu();
        h = h.layerNorm(p.get(2), p.get(3), 1e-5);
        Tensor logits = h.matmul(p.get(4)).add(p.get(5));
        return logits.crossEntropy(targets);
    }

    @Test
    void mlpTrainsTheSameOnTheDeviceAsOnTheCpu() {
        Generator g = new Generator(2024);
        NDArray x = RandomArrays.random(g, DType.F32, N, IN);
        NDArray y = NDArray.randint(g, 0, CLASSES, N);
        List<NDArray> init = List.of(
                NDArray.normal(g, DType.F32, 0, 0.3, IN, HIDDEN), NDArray.normal(g, DType.F32, 0, 0.1, HIDDEN),
                NDArray.normal(g, DType.F32, 1, 0.1, HIDDEN), NDArray.normal(g, DType.F32, 0, 0.1, HIDDEN),
                NDArray.normal(g, DType.F32, 0, 0.3, HIDDEN, CLASSES), NDArray.normal(g, DType.F32, 0, 0.1, CLASSES));
        List<Tensor> cpu = parameters(init, Device.CPU), gpu = parameters(init, DEV);
        Tensor xc = Tensor.of(x), yc = Tensor.of(y);
        Tensor xg = Tensor.of(x.to(DEV)), yg = Tensor.of(y.to(DEV));
        AdamW optC = new AdamW(cpu, 1e-2), optG = new AdamW(gpu, 1e-2);
        double first = 0, last = 0;
        int gradChecks = 0;
        for (int step = 0; step < STEPS; step++) {
            optC.zeroGrad();
            optG.zeroGrad();
            Tensor lc = loss(cpu, xc, yc), lg = loss(gpu, xg, yg);
            assertEquals(DEV, lg.device());
            lc.backward();
            lg.backward();
            double a = lc.item(), b = lg.item();
            assertEquals(a, b, 1e-4 * Math.max(1, Math.abs(a)), "loss at step " + step);
            if (step % 25 == 0 || step == STEPS - 1) {
                for (int i = 0; i < cpu.size(); i++) {
                    NDArray gg = gpu.get(i).grad();
                    assertEquals(DEV, gg.device(), "gradients stay on the device");
                    Approx.assertClose("grad of parameter " + i + " at step " + step, cpu.get(i).grad(), gg.to(Device.CPU),
                            Tolerance.normwise(2e-3, 1e-5));
                }
                gradChecks++;
            }
            optC.step();
            optG.step();
            if (step == 0) first = a;
            last = a;
        }
        assertTrue(last < 0.5 * first, "the MLP learns: loss " + first + " -> " + last);
        assertEquals(13, gradChecks); // steps 0, 25, ..., 275 and 299
        for (int i = 0; i < cpu.size(); i++) {
            Approx.assertClose("parameter " + i + " after " + STEPS + " steps", cpu.get(i).data(), gpu.get(i).data().to(Device.CPU),
                    Tolerance.normwise(2e-3, 1e-5));
        }
    }
}

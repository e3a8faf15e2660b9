package dev.tessera.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.examples.bench.AllocationMeter.RowAllocation;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class AllocationMeterTest {
    @Test
    void countsTheBytesThisThreadAllocates() {
        Assumptions.assumeTrue(AllocationMeter.available());
        long[] none = new long[0];
        long before = AllocationMeter.bytes(none);
        byte[][] kept = new byte[64][];
        for (int i = 0; i < kept.length; i++) kept[i] = new byte[1 << 14];
        long grew = AllocationMeter.bytes(none) - before;
        assertTrue(grew >= 64L << 14 && grew < 2L * (64L << 14), "counted " + grew + " bytes for 1 MiB of arrays (" + kept.length + ")");
    }

    @Test
    void warnsAboutRowsThatAllocateMoreThanAMegabytePerCall() {
        Assumptions.assumeTrue(AllocationMeter.available());
        List<String> lines = AllocationMeter.summary(List.of(new RowAllocation("softmax", 600), new RowAllocation("gpt2 qkv", 3_110_027),
                new RowAllocation("layernorm fwd+bwd", 62_875), new RowAllocation("gelu", -1)));
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("WARNING: gpt2 qkv allocated 3.1 MB per call in Tessera: boxed vectors"), lines.get(0));
    }

    @Test
    void otherwiseNamesTheRowThatAllocatedMost() {
        Assumptions.assumeTrue(AllocationMeter.available());
        List<String> lines = AllocationMeter.summary(List.of(new RowAllocation("softmax", 600), new RowAllocation("layernorm fwd+bwd", 62_875)));
        assertEquals(List.of("allocation per call (Tessera, rows with a speed target): at most 62.9 KB (layernorm fwd+bwd), no kernel on boxed vectors"), lines);
        assertEquals(List.of("allocation per call: no row measured"), AllocationMeter.summary(List.of(new RowAllocation("gelu", -1))));
    }
}

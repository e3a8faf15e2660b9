package dev.tessera.gpu;

import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/** jqwik hook: skips a property container when no OpenCL device exists, naming what is missing. */
public final class SkipWithoutOpenCl implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        return OpenCl.isAvailable() ? SkipResult.doNotSkip() : SkipResult.skip("OpenCL tests skipped: " + OpenCl.unavailableReason());
    }
}

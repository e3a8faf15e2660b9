package dev.tessera.autograd.check;

/** Thrown by {@link GradCheck#verify} when analytic and numeric gradients differ; the message lists input, element, analytic, numeric and tolerance. */
public final class GradCheckFailure extends AssertionError {
    private final transient GradCheck.Result result;

    GradCheckFailure(String message, GradCheck.Result result) {
        super(message);
        this.result = result;
    }

    public GradCheck.Result result() { return result; }
}

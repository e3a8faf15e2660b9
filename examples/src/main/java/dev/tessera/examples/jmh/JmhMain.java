package dev.tessera.examples.jmh;

/**
 * Runs the JMH benchmarks of this package (optional; {@code tessera bench cpu} is the main tool
 * and compares against libtorch in the same run). Build the examples module with JDK 17 (its
 * annotation processor generates the harness), then:
 *
 * <pre>
 * ./mvnw -q -pl examples -am package -DskipTests
 * java --add-modules jdk.incubator.vector -cp "examples/target/tessera.jar:examples/target/lib/*" \
 *     dev.tessera.examples.jmh.JmhMain [JMH options, e.g. GemmBenchmark -p threads=1,2]
 * </pre>
 */
public final class JmhMain {
    private JmhMain() {}

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.Main.main(args.length == 0 ? new String[] {"dev.tessera.examples.jmh"} : args);
    }
}

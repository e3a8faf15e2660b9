package dev.tessera.autograd;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The catalog lists every Function, and every catalog entry has a gradient-check property. */
class CatalogCoverageTest {
    /** Classes holding {@link GradCheckFor} properties. */
    static final List<Class<?>> PROPERTY_CLASSES = List.of(FunctionGradProperties.class);

    @Test
    void everyCatalogEntryHasAGradientCheckProperty() {
        Set<String> covered = new TreeSet<>();
        for (Class<?> c : PROPERTY_CLASSES) {
            for (Method m : c.getDeclaredMethods()) {
                GradCheckFor a = m.getAnnotation(GradCheckFor.class);
                if (a == null) continue;
                assertTrue(m.isAnnotationPresent(net.jqwik.api.Property.class), m + " is marked @GradCheckFor but is not a @Property");
                covered.addAll(Arrays.asList(a.value()));
            }
        }
        Set<String> missing = new TreeSet<>(FunctionCatalog.names());
        missing.removeAll(covered);
        assertTrue(missing.isEmpty(), "catalog entries without a gradient-check property: " + missing);
        Set<String> unknown = new TreeSet<>(covered);
        unknown.removeAll(FunctionCatalog.names());
        assertTrue(unknown.isEmpty(), "@GradCheckFor names that are not catalog entries: " + unknown);
    }

    @Test
    void everyFunctionClassIsInTheCatalog() throws Exception {
        String pkg = "dev.tessera.autograd.functions";
        URL url = Function.class.getClassLoader().getResource(pkg.replace('.', '/'));
        assertTrue(url != null && url.getProtocol().equals("file"), "functions package should be a directory on the test class path, got " + url);
        File[] files = new File(url.toURI()).listFiles((dir, name) -> name.endsWith(".class") && !name.contains("$"));
        Set<Class<?>> found = new HashSet<>();
        for (File f : files) {
            Class<?> c = Class.forName(pkg + "." + f.getName().replace(".class", ""));
            if (Function.class.isAssignableFrom(c) && !Modifier.isAbstract(c.getModifiers())) found.add(c);
        }
        assertFalse(found.isEmpty());
        Set<Class<?>> missing = new HashSet<>(found);
        missing.removeAll(FunctionCatalog.functionClasses());
        assertTrue(missing.isEmpty(), "Function classes not listed in FunctionCatalog: " + missing);
        assertEquals(found, new HashSet<>(FunctionCatalog.functionClasses()));
    }
}

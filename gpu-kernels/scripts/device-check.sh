#!/usr/bin/env bash
# Checks Tessera's OpenCL backend on a machine with a GPU (e.g. a lent NVIDIA H200 box).
#
#   gpu-kernels/scripts/device-check.sh prepare DIR [--jlink] [--worktree]
#       On the development machine: builds the jars from the last commit (git archive HEAD, so
#       half-edited files do not matter; --worktree builds the working tree instead) and copies
#       into DIR everything the check needs (application jars, test classes and test libraries, a
#       compiled test runner, this script). With --jlink it also puts a trimmed Java runtime in
#       DIR/jre (for a box without a JDK; DIR is then about 50 MB). DIR then travels to the GPU
#       machine (e.g. as a carried path).
#   DIR/device-check.sh run DIR [tests|bench|all]
#       On the GPU machine: prints what is there (nvidia-smi, OpenCL ICDs and loader, clinfo),
#       makes libOpenCL.so findable for JOCL if only the versioned library or the NVIDIA ICD is
#       present, then runs the gpu-kernels tests and the OpenCL benchmark on OpenCL device 0.
#       Java: $JAVA, else DIR/jre/bin/java, else java on the PATH.
set -uo pipefail

mode="${1:-}"
dir="${2:-}"
if [ -z "$mode" ] || [ -z "$dir" ]; then
  sed -n '2,19p' "$0"; exit 2
fi

if [ "$mode" = prepare ]; then
  set -e
  root="$(cd "$(dirname "$0")/../.." && pwd)"
  target="${TESSERA_TARGET:-target-devcheck}"
  jlink_jre=no; worktree=no
  for opt in "${@:3}"; do
    case "$opt" in --jlink) jlink_jre=yes ;; --worktree) worktree=yes ;; *) echo "unknown option $opt"; exit 2 ;; esac
  done
  if [ "$worktree" = no ]; then
    export_dir="$(mktemp -d)"
    git -C "$root" archive HEAD | tar -x -C "$export_dir"
    echo "building commit $(git -C "$root" rev-parse --short HEAD) in $export_dir"
    root="$export_dir"
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  rm -rf "$dir/app" "$dir/lib" "$dir/test-classes" "$dir/runner"
  mkdir -p "$dir/app" "$dir/lib" "$dir/test-classes" "$dir/runner"
  # one reactor run, so that sibling modules resolve to their freshly packaged jars
  (cd "$root" && ./mvnw -q -o -Dtessera.target="$target" -pl examples,gpu-kernels -am -DskipTests \
      package dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$dir/lib" \
      -DincludeGroupIds=dev.tessera,org.jocl,com.fasterxml.jackson.core,info.picocli,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,net.jqwik)
  # the JUnit launcher (surefire brings its own, so it is no project dependency): the platform's version
  pv="$(ls "$dir/lib" | sed -n 's/^junit-platform-engine-\(.*\)\.jar$/\1/p' | head -1)"
  (cd "$root" && ./mvnw -q -o dependency:copy -Dartifact="org.junit.platform:junit-platform-launcher:$pv" -DoutputDirectory="$dir/lib")
  # the benchmark needs tessera.jar and the libraries above (not the examples' other benchmark engines)
  cp "$root/examples/$target/tessera.jar" "$dir/app/"
  cp -r "$root/gpu-kernels/$target/test-classes/." "$dir/test-classes/"
  cp "$root/gpu-kernels/$target/gpu-kernels-"*.jar "$dir/lib/" 2>/dev/null || true
  ls "$dir/lib"/*.jar | grep -v sources >/dev/null
  javac -d "$dir/runner" -cp "$dir/lib/*" "$root/gpu-kernels/scripts/RunOpenClTests.java"
  cp "$root/gpu-kernels/scripts/device-check.sh" "$dir/device-check.sh"
  if [ "$jlink_jre" = yes ]; then
    rm -rf "$dir/jre"
    jlink --add-modules java.base,java.logging,java.management,jdk.management,jdk.jfr,java.naming,java.xml,java.sql,jdk.unsupported,jdk.zipfs,jdk.incubator.vector \
      --strip-debug --no-header-files --no-man-pages --compress=2 --output "$dir/jre" 2>&1 | grep -v -i warning || true
  fi
  du -sh "$dir"
  echo "prepared $dir; on the GPU machine run: $dir/device-check.sh run $dir"
  exit 0
fi

if [ "$mode" != run ]; then echo "unknown mode '$mode' (prepare or run)"; exit 2; fi
what="${3:-all}"
dir="$(cd "$dir" && pwd)"

echo "=== host"
uname -a
echo "=== nvidia-smi"
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi; else echo "nvidia-smi not found"; fi
echo "=== OpenCL ICDs (/etc/OpenCL/vendors)"
ls -l /etc/OpenCL/vendors 2>/dev/null && cat /etc/OpenCL/vendors/*.icd 2>/dev/null || echo "no /etc/OpenCL/vendors"
echo "=== OpenCL libraries"
libs="$( (ldconfig -p 2>/dev/null | grep -i -E 'libOpenCL|libnvidia-opencl' | awk '{print $NF}'; \
          find /usr /lib /lib64 /opt -maxdepth 5 \( -name 'libOpenCL.so*' -o -name 'libnvidia-opencl.so*' \) 2>/dev/null) \
        | grep -v '\.gz$' | sort -u)"
echo "${libs:-none found}"

# JOCL loads the unversioned libOpenCL.so; provide it (and an ICD registry) when the box lacks them.
shim="$dir/shim"
rm -rf "$shim"; mkdir -p "$shim/vendors"
loader="$(echo "$libs" | grep -E '/libOpenCL\.so(\.[0-9.]+)?$' | head -1)"
nvicd="$(echo "$libs" | grep -E 'libnvidia-opencl\.so' | head -1)"
if ! echo "$libs" | grep -q -E '/libOpenCL\.so$'; then
  if [ -n "$loader" ]; then
    ln -s "$loader" "$shim/libOpenCL.so"; echo "shim: libOpenCL.so -> $loader"
  elif [ -n "$nvicd" ]; then
    ln -s "$nvicd" "$shim/libOpenCL.so"; echo "shim: no ICD loader; libOpenCL.so -> $nvicd (the NVIDIA ICD itself)"
  else
    echo "no OpenCL library at all: install the NVIDIA driver's OpenCL part (e.g. nvidia-opencl-icd / libnvidia-compute) and ocl-icd-libopencl1"
  fi
fi
export LD_LIBRARY_PATH="$shim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The NVIDIA library may be installed without an ICD file naming it (seen on a lent H200 box whose
# /etc/OpenCL/vendors held only pocl.icd): register it beside whatever ICDs are there.
if [ -n "$nvicd" ] && ! grep -q -s nvidia /etc/OpenCL/vendors/*.icd; then
  cp /etc/OpenCL/vendors/*.icd "$shim/vendors/" 2>/dev/null || true
  echo "$nvicd" > "$shim/vendors/nvidia.icd"
  export OCL_ICD_VENDORS="$shim/vendors"
  echo "shim: ICD registry $shim/vendors (nvidia.icd -> $nvicd)"
fi
if command -v clinfo >/dev/null 2>&1; then echo "=== clinfo -l"; clinfo -l; fi

echo "=== java"
java="${JAVA:-}"
[ -z "$java" ] && [ -x "$dir/jre/bin/java" ] && java="$dir/jre/bin/java"
[ -z "$java" ] && command -v java >/dev/null 2>&1 && java="$(command -v java)"
if [ -z "$java" ]; then echo "no java: carry a runtime (prepare with --jlink) or set JAVA"; exit 3; fi
"$java" -version 2>&1
jflags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dtessera.quiet=true)

rc=0
if [ "$what" = all ] || [ "$what" = tests ]; then
  echo "=== gpu-kernels tests on OpenCL device 0"
  timeout "${TESTS_TIMEOUT:-360}" "$java" "${jflags[@]}" -cp "$dir/runner:$dir/test-classes:$dir/lib/*" RunOpenClTests || rc=1
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
  echo "=== bench opencl"
  timeout "${BENCH_TIMEOUT:-240}" "$java" "${jflags[@]}" -cp "$dir/app/tessera.jar:$dir/lib/*" \
    dev.tessera.examples.bench.OpenClBench --device "${OPENCL_DEVICE:-0}" --iters "${BENCH_ITERS:-10}" --rows "${BENCH_ROWS:-4096}" || rc=1
fi
exit $rc

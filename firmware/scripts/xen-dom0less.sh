#!/bin/sh
# SPDX-License-Identifier: MIT
#
# xen-dom0less.sh GIC_VERSION IMAGE [SECONDS] [EXTRA_XEN_ARGS]
#
# Manual check against the real Xen 4.17 (not used by the build): boots Xen
# under qemu-system-aarch64 (TCG) with IMAGE as dom0less domU 1 and prints the
# console until SECONDS (default 20) elapse. Guest lines appear as
# "(XEN) DOM1: ...". Xen does not stop QEMU when the domain shuts down, so
# the timeout is what ends the run. The reference runner lives in src/oracle/.
#
# Needs: qemu-system-aarch64, dtc, and the Xen binary at $XEN
# (default /tmp/xen/x/boot/xen-4.17-arm64, Debian xen-hypervisor-4.17-arm64).
set -eu

v=$1 img=$2 secs=${3:-20} extra=${4:-}
xen=${XEN:-/tmp/xen/x/boot/xen-4.17-arm64}
load=0x50000000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

machine="virt,virtualization=on,gic-version=$v"
qemu-system-aarch64 -machine "$machine,dumpdtb=$work/qemu.dtb" -cpu cortex-a57 -m 1024 \
	-nographic >/dev/null 2>&1
dtc -q -I dtb -O dts -o "$work/qemu.dts" "$work/qemu.dtb"

size=$(stat -c %s "$img")
# Drop QEMU's /chosen and the closing "};" of the root, then add ours.
sed '/^\tchosen {/,/^\t};/d' "$work/qemu.dts" | sed '$d' > "$work/xen.dts"
cat >> "$work/xen.dts" <<EOT
	chosen {
		#address-cells = <2>;
		#size-cells = <2>;
		stdout-path = "/pl011@9000000";
		xen,xen-bootargs = "console=dtuart dtuart=/pl011@9000000 xsm=dummy $extra";
		domU1 {
			compatible = "xen,domain";
			#address-cells = <1>;
			#size-cells = <1>;
			memory = <0 65536>;
			cpus = <1>;
			vpl011;
			module@${load#0x} {
				compatible = "multiboot,kernel", "multiboot,module";
				reg = <$load $(printf '0x%x' $(( (size + 4095) / 4096 * 4096 )))>;
				bootargs = "console=ttyAMA0";
			};
		};
	};
};
EOT
dtc -q -I dts -O dtb -o "$work/xen.dtb" "$work/xen.dts"
timeout "$secs" qemu-system-aarch64 -machine "$machine" -cpu cortex-a57 -m 1024 -nographic \
	-monitor none -serial stdio -kernel "$xen" -dtb "$work/xen.dtb" \
	-device loader,file="$img",addr=$load,force-raw=on </dev/null || true

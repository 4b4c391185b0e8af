// SPDX-License-Identifier: MIT
//
// The /init of the Linux boot test's initramfs: a static AArch64 program with no C library,
// talking to the kernel through raw system calls (the AArch64 Linux syscall ABI: number in
// x8, arguments in x0..x5, `svc #0`, result in x0). It proves that the kernel reached user
// space and can run a program: it prints a few distinctive lines on fd 1 (the kernel opens
// /dev/console for init's stdin/stdout/stderr, which is why the cpio carries that node),
// then powers the machine off, which a guest kernel does with PSCI SYSTEM_OFF.

typedef unsigned long u64;

// Numbers from Linux's generic syscall table (include/uapi/asm-generic/unistd.h).
enum { SYS_WRITE = 64, SYS_REBOOT = 142, SYS_UNAME = 160, SYS_GETPID = 172 };

// reboot(2): both magic values must match or the call fails with EINVAL.
#define REBOOT_MAGIC1 0xfee1deadUL
#define REBOOT_MAGIC2 0x28121969UL
#define REBOOT_CMD_POWER_OFF 0x4321fedcUL

static long syscall4(long nr, u64 a, u64 b, u64 c, u64 d) {
  register u64 x0 __asm__("x0") = a;
  register u64 x1 __asm__("x1") = b;
  register u64 x2 __asm__("x2") = c;
  register u64 x3 __asm__("x3") = d;
  register long x8 __asm__("x8") = nr;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3), "r"(x8) : "memory");
  return (long)x0;
}

// struct utsname as Linux fills it for new_utsname: six NUL-terminated 65-byte fields.
struct utsname {
  char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

static u64 length(const char *s) {
  u64 n = 0;
  while (s[n]) n++;
  return n;
}

static void put(const char *s) { syscall4(SYS_WRITE, 1, (u64)s, length(s), 0); }

static void line(const char *a, const char *b) {
  put(a);
  put(b);
  put("\n");
}

static void decimal(char *out, long v) {
  char tmp[24];
  int n = 0;
  if (v < 0) {
    *out++ = '-';
    v = -v;
  }
  do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (n > 0) *out++ = tmp[--n];
  *out = 0;
}

int main(void) {
  static struct utsname u;
  char num[24];

  line("init: hello from /init", "");
  decimal(num, syscall4(SYS_GETPID, 0, 0, 0, 0));
  line("init: running as pid ", num);
  if (syscall4(SYS_UNAME, (u64)&u, 0, 0, 0) == 0) {
    put("init: uname sysname=");
    put(u.sysname);
    line(" machine=", u.machine);
    line("init: uname release=", u.release);
    line("init: uname version=", u.version);
  } else {
    line("init: uname failed", "");
  }
  line("init: powering off", "");
  long r = syscall4(SYS_REBOOT, REBOOT_MAGIC1, REBOOT_MAGIC2, REBOOT_CMD_POWER_OFF, 0);
  // Only reached when the power-off was refused; returning from init would panic the kernel.
  decimal(num, r);
  line("init: reboot returned ", num);
  for (;;) __asm__ volatile("wfi");
}

// Entry point: the kernel starts init with sp at argc/argv/envp; nothing of that is needed.
__asm__(".text\n.global _start\n_start:\n\tmov x29, #0\n\tmov x30, #0\n\tbl main\n1:\tb 1b\n");

// SPDX-License-Identifier: MIT
/*
 * Host-side unit test of lib/printk.c's formatter: compiled with the host C
 * compiler against a stub console, compared with expected strings (not with
 * the host printf, so a shared bug could not hide).
 */
#include <stdio.h>
#include <string.h>

#include <xenvm/printk.h>

void console_putc(char c) { (void)c; }

static int passed, failed;

#define EXPECT(want, ...) do { \
	char buf[128]; \
	int n = snprintk(buf, sizeof(buf), __VA_ARGS__); \
	if (strcmp(buf, want) == 0 && n == (int)strlen(want)) { \
		passed++; \
	} else { \
		failed++; \
		printf("FAIL line %d: got \"%s\" (%d), want \"%s\"\n", __LINE__, buf, n, want); \
	} \
} while (0)

int main(void)
{
	EXPECT("plain", "plain");
	EXPECT("42 -7 0", "%d %i %d", 42, -7, 0);
	EXPECT("-2147483648", "%d", (int)0x80000000u);
	EXPECT("4294967295", "%u", 0xffffffffu);
	EXPECT("deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu);
	EXPECT("0x00000000000000ff", "0x%016lx", 0xffUL);
	EXPECT("-9223372036854775808", "%lld", (long long)(-9223372036854775807LL - 1));
	EXPECT("18446744073709551615", "%llu", 18446744073709551615ULL);
	EXPECT("-38", "%ld", -38L);
	EXPECT("123456789012", "%zu", (size_t)123456789012ULL);
	EXPECT("0x40000000", "%p", (void *)0x40000000UL);
	EXPECT("[   ab]", "[%5s]", "ab");
	EXPECT("[ab   ]", "[%-5s]", "ab");
	EXPECT("[  -42]", "[%5d]", -42);
	EXPECT("[-0042]", "[%05d]", -42);
	EXPECT("[42   ]", "[%-5d]", 42);
	EXPECT("[   7f]", "[%*x]", 5, 0x7f);
	EXPECT("x=%", "x=%%");
	EXPECT("c=Z", "c=%c", 'Z');
	EXPECT("(null)", "%s", (char *)NULL);
	EXPECT("4.17", "%u.%u", 4u, 17u);
	EXPECT("0x00", "0x%02x", 0u);
	EXPECT("-1 255", "%hhd %hhu", 255, 255);

	/* Truncation: NUL-terminated, returns the untruncated length. */
	char small[4];
	int n = snprintk(small, sizeof(small), "%d", 123456);

	if (n == 6 && strcmp(small, "123") == 0) {
		passed++;
	} else {
		failed++;
		printf("FAIL truncation: got \"%s\" (%d)\n", small, n);
	}

	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}

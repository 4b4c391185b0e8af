/*
 * spin: prints one line, then loops forever without a hypercall. The host's --timeout and
 * --max-instructions bounds are tested against it.
 */
#include <xenvm/printk.h>

int main(void)
{
    volatile unsigned long n = 0;

    printk("spin: looping forever\n");
    for (;;)
        n++;
    return 0;
}

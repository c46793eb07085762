/*
 * null_guest.c: the benchmark's null guest (bench_vmm.c drives it under
 * ckrun and QEMU).  It prints one byte on COM1, then does what the command
 * line asks, then ends the VM: a write to port 0xf4 exits QEMU (its
 * isa-debug-exit device, status 1 for value 0; QEMU's microvm machine has
 * no i8042), and ckrun, for which 0xf4 is an unclaimed port, ends on the
 * i8042 reset that follows (status 0):
 *   pio=N   N writes to COM1's scratch register (N port-I/O exits)
 *   wait    wait for one byte on COM1 first (the host samples RSS meanwhile)
 */
#include <stdint.h>

#define COM1       0x3f8
#define COM1_LSR   (COM1 + 5)
#define COM1_SCR   (COM1 + 7)
#define LSR_DR     0x01
#define LSR_THRE   0x20
#define DEBUG_EXIT 0xf4

void null_main(const char *cmdline);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void put_char(char c)
{
    while (!(inb(COM1_LSR) & LSR_THRE))
        ;
    outb(COM1, (uint8_t)c);
}

/* The text after "key" in (s) when it starts a word there, else NULL. */
static const char *find(const char *s, const char *key)
{
    for (const char *w = s; s && *w; w++) {
        const char *a = w, *b = key;

        if (w != s && w[-1] != ' ')
            continue;
        while (*b && *a == *b)
            a++, b++;
        if (!*b)
            return a;
    }
    return 0;
}

void null_main(const char *cmdline)
{
    const char *p = find(cmdline, "pio=");
    uint64_t n = 0;

    put_char('!');
    while (p && *p >= '0' && *p <= '9')
        n = n * 10 + (uint64_t)(*p++ - '0');
    if (find(cmdline, "wait")) {
        while (!(inb(COM1_LSR) & LSR_DR))
            ;
        (void)inb(COM1);
    }
    for (uint64_t i = 0; i < n; i++)
        outb(COM1_SCR, (uint8_t)i);
    outb(DEBUG_EXIT, 0);
    outb(0x64, 0xfe); /* i8042: pulse the reset line */
    for (;;)
        __asm__ volatile("cli; hlt");
}

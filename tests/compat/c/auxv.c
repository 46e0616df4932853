/* Print what the loader handed to the program: argc, argv[], the number of
 * environment strings, the layout of the initial stack and the auxiliary
 * vector entries whose values do not change from run to run.
 *
 * Addresses are deterministic only for a static non-PIE binary (the kernel
 * maps it at its link address). With the argument "--relative" (used for
 * dynamic and PIE builds) the program prints relations between them instead:
 * AT_PHDR - AT_ENTRY, and whether AT_BASE is zero.
 *
 * The initial stack pointer is recovered from argv: at process entry rsp
 * points at argc and argv starts 8 bytes above it. The x86-64 ABI requires
 * that address to be 16-byte aligned. We also check that envp starts right
 * after argv's NULL and that the auxv starts right after envp's NULL, as the
 * kernel lays them out (and as glibc's own startup code assumes). */
#include <elf.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

static const struct { unsigned long type; const char *name; } WANTED[] = {
    {AT_PAGESZ, "AT_PAGESZ"}, {AT_PHENT, "AT_PHENT"}, {AT_PHNUM, "AT_PHNUM"},
    {AT_FLAGS, "AT_FLAGS"},   {AT_UID, "AT_UID"},     {AT_EUID, "AT_EUID"},
    {AT_GID, "AT_GID"},       {AT_EGID, "AT_EGID"},   {AT_SECURE, "AT_SECURE"},
    {AT_HWCAP, "AT_HWCAP"},   {AT_HWCAP2, "AT_HWCAP2"}, {AT_CLKTCK, "AT_CLKTCK"},
};

static Elf64_auxv_t *find(Elf64_auxv_t *auxv, unsigned long type)
{
    for (; auxv->a_type != AT_NULL; auxv++)
        if (auxv->a_type == type)
            return auxv;
    return NULL;
}

int main(int argc, char **argv, char **envp)
{
    int relative = argc > 1 && strcmp(argv[1], "--relative") == 0;

    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    printf("argv[argc]=%s\n", argv[argc] == NULL ? "NULL" : "not NULL");

    int envc = 0;
    while (envp[envc] != NULL)
        envc++;
    printf("envc=%d\n", envc);

    uintptr_t sp = (uintptr_t)argv - sizeof(long);
    printf("initial rsp %% 16 = %u\n", (unsigned)(sp % 16));
    printf("argc on stack matches = %d\n", *(long *)sp == argc);
    printf("envp follows argv = %d\n", envp == argv + argc + 1);

    Elf64_auxv_t *auxv = (Elf64_auxv_t *)(envp + envc + 1);
    int n = 0;
    while (auxv[n].a_type != AT_NULL)
        n++;
    printf("auxv follows envp = %d\n", n > 0 && find(auxv, AT_PAGESZ) != NULL);

    for (size_t i = 0; i < sizeof WANTED / sizeof WANTED[0]; i++) {
        Elf64_auxv_t *e = find(auxv, WANTED[i].type);
        if (e)
            printf("%s=0x%" PRIx64 "\n", WANTED[i].name, e->a_un.a_val);
        else
            printf("%s missing\n", WANTED[i].name);
        /* getauxval must agree with the raw vector (except for the hwcaps,
         * which glibc replaces with its own view of the CPU). */
        if (e && WANTED[i].type != AT_HWCAP && WANTED[i].type != AT_HWCAP2 &&
            getauxval(WANTED[i].type) != e->a_un.a_val)
            printf("%s: getauxval disagrees\n", WANTED[i].name);
    }

    Elf64_auxv_t *phdr = find(auxv, AT_PHDR), *entry = find(auxv, AT_ENTRY),
                 *base = find(auxv, AT_BASE);
    if (!relative) {
        printf("AT_PHDR=%s0x%" PRIx64 "\n", phdr ? "" : "missing ", phdr ? phdr->a_un.a_val : 0);
        printf("AT_ENTRY=%s0x%" PRIx64 "\n", entry ? "" : "missing ", entry ? entry->a_un.a_val : 0);
        printf("AT_BASE=%s0x%" PRIx64 "\n", base ? "" : "missing ", base ? base->a_un.a_val : 0);
    } else {
        if (phdr && entry)
            printf("AT_PHDR-AT_ENTRY=%" PRId64 "\n",
                   (int64_t)(phdr->a_un.a_val - entry->a_un.a_val));
        else
            printf("AT_PHDR or AT_ENTRY missing\n");
        printf("AT_BASE %s\n", !base ? "missing" : base->a_un.a_val ? "nonzero" : "zero");
    }

    static const struct { unsigned long type; const char *name; } PRESENT[] = {
        {AT_RANDOM, "AT_RANDOM"}, {AT_SYSINFO_EHDR, "AT_SYSINFO_EHDR"},
        {AT_EXECFN, "AT_EXECFN"}, {AT_PLATFORM, "AT_PLATFORM"},
    };
    for (size_t i = 0; i < sizeof PRESENT / sizeof PRESENT[0]; i++) {
        Elf64_auxv_t *e = find(auxv, PRESENT[i].type);
        printf("%s %s\n", PRESENT[i].name, e && e->a_un.a_val ? "present" : "missing");
    }

    Elf64_auxv_t *e = find(auxv, AT_EXECFN);
    if (e && e->a_un.a_val)
        printf("AT_EXECFN -> %s\n", (const char *)e->a_un.a_val);
    e = find(auxv, AT_PLATFORM);
    if (e && e->a_un.a_val)
        printf("AT_PLATFORM -> %s\n", (const char *)e->a_un.a_val);
    e = find(auxv, AT_SYSINFO_EHDR);
    if (e && e->a_un.a_val)
        printf("vDSO starts with ELF magic = %d\n",
               memcmp((const void *)e->a_un.a_val, ELFMAG, SELFMAG) == 0);
    e = find(auxv, AT_RANDOM);
    if (e && e->a_un.a_val) {
        /* 16 readable bytes; their value is random, only check they are not all zero. */
        const unsigned char *r = (const unsigned char *)e->a_un.a_val;
        int nonzero = 0;
        for (int i = 0; i < 16; i++)
            nonzero |= r[i];
        printf("AT_RANDOM bytes nonzero = %d\n", nonzero != 0);
    }
    return 0;
}

/* symbols.c - addresses to "func (file:line)" with libdw, each unique address resolved once */
/*
 * The dump lists every object the process had loaded (path, load bias); they are reported to
 * libdwfl as offline ELF files at those biases, so the files are read after the process ended.
 * Function names come from the symbol table (or .dynsym for stripped binaries), file:line from
 * DWARF when the object has it. C++ names are demangled with libstdc++'s __cxa_demangle when it
 * can be loaded. A return address is looked up at address - 1, inside the call instruction.
 */
#include "rt.h"

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

struct sym {
    uint64_t key; /* address << 1 | ret; 0 = empty */
    char *full, *func;
};

struct rt_syms {
    Dwfl *dwfl;
    struct sym *tab;
    size_t cap, n;
    char *(*demangle)(const char *, char *, size_t *, int *);
    void *cxx;
};

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

struct rt_syms *rt_syms_open(const struct rt_dump *d)
{
    struct rt_syms *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cap = 1024;
    s->tab = calloc(s->cap, sizeof *s->tab);
    s->dwfl = dwfl_begin(&callbacks);
    if (!s->tab || !s->dwfl) {
        rt_syms_close(s);
        return NULL;
    }
    dwfl_report_begin(s->dwfl);
    for (size_t i = 0; i < d->nmods; i++) {
        const char *base = strrchr(d->mods[i].path, '/');
        dwfl_report_elf(s->dwfl, base ? base + 1 : d->mods[i].path, d->mods[i].path, -1,
                        d->mods[i].bias, false);
    }
    dwfl_report_end(s->dwfl, NULL, NULL);
    s->cxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    void *f = s->cxx ? dlsym(s->cxx, "__cxa_demangle") : NULL;
    memcpy(&s->demangle, &f, sizeof f);
    return s;
}

void rt_syms_close(struct rt_syms *s)
{
    if (!s) return;
    for (size_t i = 0; s->tab && i < s->cap; i++) {
        free(s->tab[i].full);
        free(s->tab[i].func);
    }
    free(s->tab);
    if (s->dwfl) dwfl_end(s->dwfl);
    if (s->cxx) dlclose(s->cxx);
    free(s);
}

static char *name_of(struct rt_syms *s, Dwfl_Module *m, uint64_t a)
{
    const char *name = m ? dwfl_module_addrname(m, a) : NULL;
    if (!name) return NULL;
    size_t len = strcspn(name, "@"); /* "memcpy@@GLIBC_2.14": drop the symbol version */
    if (s->demangle && name[0] == '_' && name[1] == 'Z') {
        int status = -1;
        char *mangled = strndup(name, len);
        char *dm = mangled ? s->demangle(mangled, NULL, NULL, &status) : NULL;
        free(mangled);
        if (dm && status == 0) return dm;
        free(dm);
    }
    return strndup(name, len);
}

static void resolve(struct rt_syms *s, struct sym *e, uint64_t addr, int ret)
{
    uint64_t a = ret && addr ? addr - 1 : addr;
    Dwfl_Module *m = dwfl_addrmodule(s->dwfl, a);
    char *func = name_of(s, m, a);
    const char *mod = m ? dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL) : NULL;
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *l = m ? dwfl_module_getsrc(m, a) : NULL;
    if (l) file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
    char *full = NULL;
    int rc;
    if (func && file) {
        const char *fb = strrchr(file, '/');
        rc = asprintf(&full, "%s (%s:%d)", func, fb ? fb + 1 : file, line);
    } else if (func) {
        rc = asprintf(&full, "%s (%s)", func, mod ? mod : "?");
    } else {
        rc = asprintf(&full, "0x%llx (%s)", (unsigned long long)addr, mod ? mod : "?");
    }
    if (rc < 0) full = NULL;
    if (!func) func = full ? strndup(full, strcspn(full, " ")) : NULL;
    e->full = full;
    e->func = func;
}

static struct sym *lookup(struct rt_syms *s, uint64_t addr, int ret)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap * 2;
        struct sym *t = calloc(cap, sizeof *t);
        if (!t) return NULL;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->tab[i].key) continue;
            size_t j = (size_t)(s->tab[i].key * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
            while (t[j].key) j = (j + 1) & (cap - 1);
            t[j] = s->tab[i];
        }
        free(s->tab);
        s->tab = t;
        s->cap = cap;
    }
    uint64_t key = addr << 1 | (ret ? 1 : 0);
    if (!key) key = 2; /* address 0, not a return address */
    size_t j = (size_t)(key * 0x9E3779B97F4A7C15ull >> 17) & (s->cap - 1);
    while (s->tab[j].key && s->tab[j].key != key) j = (j + 1) & (s->cap - 1);
    if (!s->tab[j].key) {
        s->tab[j].key = key;
        s->n++;
        resolve(s, &s->tab[j], addr, ret);
    }
    return &s->tab[j];
}

const char *rt_syms_frame(struct rt_syms *s, uint64_t addr, int ret)
{
    struct sym *e = lookup(s, addr, ret);
    return e && e->full ? e->full : "??";
}

const char *rt_syms_func(struct rt_syms *s, uint64_t addr, int ret)
{
    struct sym *e = lookup(s, addr, ret);
    return e && e->func ? e->func : "??";
}

int rt_resolve(struct rt_syms *s, const struct rt_dump *d, int is_pc, uint64_t tag,
               struct rt_frames *out, int func_only)
{
    const struct rt_stack *st = is_pc ? NULL : rt_dump_stack(d, tag);
    uint32_t n = is_pc ? 1 : st ? st->depth : 0;
    out->n = 0;
    out->f = calloc(n ? n : 1, sizeof *out->f);
    if (!out->f) return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t a = is_pc ? tag : st->frames[i];
        out->f[out->n++] = func_only ? rt_syms_func(s, a, 1) : rt_syms_frame(s, a, 1);
    }
    return 0;
}

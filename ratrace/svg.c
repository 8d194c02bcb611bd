/* svg.c - a flame graph drawn as SVG (Gregg's layout: callers below, callees above) */
/*
 * Stacks are merged into a tree of frames from the outermost (bottom) up; a frame's width is the
 * sum of the weights of the stacks through it, children sorted by name, so the graph is the same
 * whatever the order of the stacks. Each rectangle has a <title> (the tooltip: name, weight,
 * share) and, when wide enough, its name clipped to the width. Colours are a hash of the name in
 * the warm palette, so one function has one colour across the graph.
 */
#include "rt.h"

#include <stdlib.h>
#include <string.h>

#define WIDTH   1200.0
#define FRAME_H 16
#define PAD     10
#define TITLE_H 24
#define CHAR_W  7.0

struct node {
    const char *name;
    uint64_t weight;
    struct node *child, *next;
};

static struct node *child_of(struct node *n, const char *name)
{
    struct node **p = &n->child;
    for (; *p; p = &(*p)->next) {
        int c = strcmp((*p)->name, name);
        if (c == 0) return *p;
        if (c > 0) break;
    }
    struct node *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->name = name;
    k->next = *p;
    *p = k;
    return k;
}

static void free_tree(struct node *n)
{
    while (n) {
        struct node *next = n->next;
        free_tree(n->child);
        free(n);
        n = next;
    }
}

static int depth_of(const struct node *n)
{
    int best = 0;
    for (const struct node *c = n->child; c; c = c->next) {
        int d = 1 + depth_of(c);
        if (d > best) best = d;
    }
    return best;
}

static void xml_text(FILE *f, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++) {
        switch (s[i]) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(s[i], f);
        }
    }
}

static unsigned colour_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s && *s != '('; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

struct draw {
    FILE *f;
    uint64_t total;
    int height;
    const char *unit;
};

static void draw(const struct draw *g, const struct node *n, double x, int level)
{
    double w = (double)n->weight * WIDTH / (double)g->total;
    if (w < 0.1) return;
    int y = g->height - PAD - (level + 1) * FRAME_H;
    unsigned h = colour_hash(n->name);
    fprintf(g->f, "<g><title>");
    xml_text(g->f, n->name, 4096);
    fprintf(g->f, " (%llu %s, %.2f%%)</title>", (unsigned long long)n->weight, g->unit,
            100.0 * (double)n->weight / (double)g->total);
    fprintf(g->f,
            "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"rgb(%u,%u,%u)\" "
            "rx=\"2\"/>",
            PAD + x, y, w, FRAME_H - 1, 205 + h % 50, (h >> 8) % 230, (h >> 16) % 55);
    size_t chars = (size_t)((w - 6) / CHAR_W);
    if (chars >= 3) {
        fprintf(g->f, "<text x=\"%.1f\" y=\"%d\">", PAD + x + 3, y + FRAME_H - 4);
        size_t len = strlen(n->name);
        xml_text(g->f, n->name, len <= chars ? len : chars - 2);
        if (len > chars) fputs("..", g->f);
        fputs("</text>", g->f);
    }
    fputs("</g>\n", g->f);
    for (const struct node *c = n->child; c; c = c->next) {
        draw(g, c, x, level + 1);
        x += (double)c->weight * WIDTH / (double)g->total;
    }
}

int rt_svg_write(FILE *f, const char *title, const struct rt_flame_stack *st, size_t n,
                 const char *unit)
{
    struct node root = {.name = "all"};
    for (size_t i = 0; i < n; i++) {
        root.weight += st[i].weight;
        struct node *cur = &root;
        for (uint32_t k = 0; k < st[i].depth && cur; k++) {
            cur = child_of(cur, st[i].frames[k]);
            if (cur) cur->weight += st[i].weight;
        }
        if (!cur) {
            free_tree(root.child);
            return -1;
        }
    }
    struct draw g = {f, root.weight ? root.weight : 1, 0, unit};
    g.height = (depth_of(&root) + 1) * FRAME_H + 2 * PAD + TITLE_H;
    fprintf(f,
            "<?xml version=\"1.0\" standalone=\"no\"?>\n"
            "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\">\n"
            "<style>text { font-family: monospace; font-size: 11px; fill: #000; }\n"
            "rect:hover { stroke: #000; stroke-width: 0.5; }</style>\n"
            "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
            "<text x=\"%d\" y=\"%d\" style=\"font-size: 14px\">",
            (int)WIDTH + 2 * PAD, g.height, (int)WIDTH + 2 * PAD, g.height, PAD, PAD + 12);
    xml_text(f, title, 4096);
    fputs("</text>\n", f);
    if (root.weight) draw(&g, &root, 0, 0);
    fputs("</svg>\n", f);
    free_tree(root.child);
    return ferror(f) ? -1 : 0;
}

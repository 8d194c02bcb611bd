/* main.c - the replay command line: subcommand dispatch and what each subcommand prints
 *
 * Design: `replay [OPTIONS] FILE...` replays; `replay gen ...` synthesizes a capture; `replay
 * info FILE...` describes inputs (input layer only: no ring, no threads); `replay convert IN...
 * -o OUT` writes a native tick file. A first argument naming a subcommand is always the
 * subcommand: a file called "gen" is replayed as ./gen.
 * Options are parsed and checked by options.c (one table for every subcommand) before anything
 * runs. Exit codes: 0 done; 1 usage error (or an existing --shm NAME); 2 input error (or gen's /
 * convert's output error); 3 the ring or a thread could not be set up, or the continuity check
 * failed; 130 interrupted (after the report; convert removes its unfinished output).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringalloc/ringalloc.h"
#include "convert.h"
#include "gen.h"
#include "info.h"
#include "options.h"
#include "outfile.h"
#include "report.h"
#include "run.h"

#define RP_EXIT_OK        0
#define RP_EXIT_USAGE     1
#define RP_EXIT_INPUT     2
#define RP_EXIT_SYSTEM    3
#define RP_EXIT_INTERRUPT 130

/* Parses argv for cmd. @return -1 to go on, or the exit code (help printed, usage error). */
static int rp_parse(rp_cmd cmd, int argc, char **argv, rp_opts *o)
{
    int rc = rp_options_parse(cmd, argc, argv, o);
    if (rc == RP_OPTS_GO) return -1;
    return rc == RP_OPTS_DONE ? RP_EXIT_OK : RP_EXIT_USAGE;
}

/* Writes a JSON report with fn. @return exit_code, or RP_EXIT_SYSTEM when it failed. */
static int rp_json_done(const rp_opts *o, int rc, int exit_code)
{
    if (rc == 0) return exit_code;
    fprintf(stderr, "%s: cannot write the JSON report\n", o->prog);
    return RP_EXIT_SYSTEM;
}

static int rp_cmd_gen(int argc, char **argv)
{
    rp_opts o;
    int rc = rp_parse(RP_CMD_GEN, argc, argv, &o);
    if (rc >= 0) return rc;
    o.gen.out = o.output;
    o.gen.force = o.force;
    rp_stop_install();
    rp_gen_result g;
    char err[512];
    if ((rc = rp_gen_write(&o.gen, &g, err, sizeof(err))) != 0) {
        fprintf(stderr, "%s: %s\n", o.prog, err);
        return rc > 0 ? RP_EXIT_INTERRUPT : RP_EXIT_INPUT;
    }
    if (!o.quiet) rp_report_gen_human(stderr, &o.gen, &g);
    return rp_json_done(&o, o.json ? rp_report_gen_json(stdout, &o.gen, &g) : 0, RP_EXIT_OK);
}

/* Reads one file for info. @return RP_EXIT_OK or RP_EXIT_INPUT (message printed). */
static int rp_info_one(const rp_opts *o, const char *path, rp_dump *dump, rp_info_file *file)
{
    char err[1024];
    if (rp_info_read(path, &o->src, dump, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        return RP_EXIT_INPUT;
    }
    if (!file->feed.truncated) return RP_EXIT_OK;
    if (o->strict) {
        fprintf(stderr,
                "%s: %s: the input ends inside its last record (truncated after %" PRIu64
                " bytes; --strict)\n",
                o->prog, path, file->feed.bytes);
        return RP_EXIT_INPUT;
    }
    fprintf(stderr, "%s: warning: %s: the last record is truncated (ignored)\n", o->prog, path);
    return RP_EXIT_OK;
}

static int rp_cmd_info(int argc, char **argv)
{
    rp_opts o;
    int rc = rp_parse(RP_CMD_INFO, argc, argv, &o);
    if (rc >= 0) return rc;
    size_t n = (size_t)o.nfiles;
    rp_info_file *files = calloc(n, sizeof(*files));
    rp_dump *dump = o.dump ? rp_dump_new(stdout, &o.dumpo) : NULL;
    if (!files || (o.dump && !dump)) {
        free(files);
        rp_dump_free(dump);
        fprintf(stderr, "%s: out of memory\n", o.prog);
        return RP_EXIT_SYSTEM;
    }
    int exit_code = RP_EXIT_OK;
    for (size_t i = 0; i < n && exit_code == RP_EXIT_OK; i++)
        exit_code = rp_info_one(&o, o.files[i], dump, &files[i]);
    if (exit_code == RP_EXIT_OK && !o.dump) {
        if (o.json)
            exit_code = rp_json_done(&o, rp_info_report_json(stdout, files, n), exit_code);
        else
            rp_info_report_human(stdout, files, n);
    }
    if (dump && exit_code == RP_EXIT_OK && rp_dump_finish(dump) != 0) exit_code = RP_EXIT_SYSTEM;
    if (o.dump && fflush(stdout) != 0 && exit_code == RP_EXIT_OK) exit_code = RP_EXIT_SYSTEM;
    rp_info_files_free(files, n);
    free(files);
    rp_dump_free(dump);
    return exit_code;
}

static int rp_cmd_convert(int argc, char **argv)
{
    rp_opts o;
    int rc = rp_parse(RP_CMD_CONVERT, argc, argv, &o);
    if (rc >= 0) return rc;
    rp_convert_opts c = {.to = o.to_itch ? RP_CONVERT_TO_ITCH : RP_CONVERT_TO_RTK,
                         .inputs = (const char *const *)o.files,
                         .ninputs = (size_t)o.nfiles,
                         .output = o.output,
                         .force = o.force,
                         .src = o.src,
                         .compress = o.zstd,
                         .level = o.level,
                         .workers = o.workers,
                         .frame_size = o.frame_size,
                         .strict = o.strict,
                         .progress = !o.quiet && isatty(STDERR_FILENO)};
    rp_stop_install();
    rp_convert_result res;
    char err[1024];
    rc = rp_convert(&c, &res, err, sizeof(err));
    if (rc != RP_CONVERT_OK) {
        fprintf(stderr, "%s: %s\n", o.prog, err);
        return rc == RP_CONVERT_STOPPED ? RP_EXIT_INTERRUPT : RP_EXIT_INPUT;
    }
    rp_print_lines(o.prog, res.warnings);
    if (!o.quiet) rp_convert_report_human(stderr, &c, &res);
    return rp_json_done(&o, o.json ? rp_convert_report_json(stdout, &c, &res) : 0, RP_EXIT_OK);
}

/* Says once, before the run, when the threads will have to share CPUs. */
static void rp_warn_crowded(const rp_run_config *cfg)
{
    unsigned cpus = rp_cpus();
    if (cfg->readers == 0 || 1 + cfg->readers <= cpus) return;
    fprintf(stderr,
            "replay: warning: 1 producer + %u reader threads on %u CPU%s: threads take turns, so "
            "lag and latency include time spent off-CPU (whole scheduler slices)\n",
            cfg->readers, cpus, cpus == 1 ? "" : "s");
}

/* Runs cfg, with --stats-csv going to csv and --bbo to bbo (committed when the run reports).
 * @return the exit code when the run failed (message printed), or -1 with *res to report. */
static int rp_replay_run(rp_opts *o, rp_run_config *cfg, rp_run_result *res)
{
    rp_outfile csv = {0}, bbo = {0};
    char err[1024];
    if ((o->stats_csv && rp_outfile_open(&csv, o->stats_csv, o->force, err, sizeof(err)) != 0) ||
        (o->bbo && rp_outfile_open(&bbo, o->bbo, o->force, err, sizeof(err)) != 0)) {
        fprintf(stderr, "replay: %s\n", err);
        rp_outfile_abort(&csv);
        return RP_EXIT_INPUT;
    }
    cfg->stats_csv = csv.f;
    if (o->book && rp_cons_book_names(&o->booko, cfg->files, cfg->nfiles, &cfg->src) != 0) {
        fprintf(stderr, "replay: out of memory\n");
        rp_outfile_abort(&csv);
        rp_outfile_abort(&bbo);
        return RP_EXIT_SYSTEM;
    }
    if (o->book) { /* reader 0 is the book (cons_book.c); duplicates go before the ring */
        o->booko.bbo = bbo.f;
        cfg->first = &rp_cons_book;
        cfg->first_arg = &o->booko;
        cfg->dedup = true;
    }
    int rc = rp_run(cfg, res, err, sizeof(err));
    if (rc == RP_RUN_OK && o->stats_csv && rp_outfile_commit(&csv, err, sizeof(err)) != 0)
        rc = RP_RUN_EINPUT;
    if (rc == RP_RUN_OK && o->bbo && rp_outfile_commit(&bbo, err, sizeof(err)) != 0)
        rc = RP_RUN_EINPUT;
    rp_outfile_abort(&csv);
    rp_outfile_abort(&bbo);
    if (rc == RP_RUN_OK && o->book && res->nreaders)
        rp_cons_book_finish(res->cons[0], res->feed.missing, res->duplicates);
    if (rc == RP_RUN_OK) return -1;
    fprintf(stderr, "replay: %s\n", err);
    rp_run_result_free(res);
    if (rc == RP_RUN_EEXIST) return RP_EXIT_USAGE;
    return rc == RP_RUN_EINPUT ? RP_EXIT_INPUT : RP_EXIT_SYSTEM;
}

static int rp_cmd_replay(int argc, char **argv)
{
    rp_opts o;
    int rc = rp_parse(RP_CMD_REPLAY, argc, argv, &o);
    if (rc >= 0) return rc;
    rp_run_config *cfg = &o.run;
    cfg->src = o.src;
    cfg->files = (const char *const *)o.files;
    cfg->nfiles = (size_t)o.nfiles;
    cfg->progress = !o.quiet && isatty(STDERR_FILENO);
    rp_stop_install();
    rp_warn_crowded(cfg);
    char err[1024];
    if (o.send.ndest && rp_sender_open(&cfg->sender, &o.send, &cfg->pace, err, sizeof(err)) != 0) {
        fprintf(stderr, "replay: --send %s\n", err);
        return RP_EXIT_SYSTEM;
    }
    rp_run_result res;
    if ((rc = rp_replay_run(&o, cfg, &res)) >= 0) {
        rp_sender_close(cfg->sender);
        return rc;
    }
    rp_print_lines("replay", res.warnings); /* each line already says "warning: ..." */
    if (res.no_timestamps)
        fprintf(stderr, "replay: warning: the input has no timestamps; --speed ran at max speed "
                        "(use --pps to pace it)\n");
    int exit_code = RP_EXIT_OK;
    if (!o.quiet) rp_report_human(o.json ? stderr : stdout, cfg, &res);
    if (o.json) exit_code = rp_json_done(&o, rp_report_json(stdout, cfg, &res), exit_code);
    if (!res.verified) {
        for (const char *p = res.why; *p;) {
            const char *e = strchr(p, '\n');
            int n = e ? (int)(e - p) : (int)strlen(p);
            fprintf(stderr, "replay: error: %.*s\n", n, p);
            p = e ? e + 1 : p + n;
        }
        fprintf(stderr, "replay: error: ring continuity check failed\n");
        exit_code = RP_EXIT_SYSTEM;
    } else if (res.interrupted && exit_code == RP_EXIT_OK) {
        exit_code = RP_EXIT_INTERRUPT;
    }
    rp_run_result_free(&res);
    rp_sender_close(cfg->sender);
    free(o.booko.names);
    return exit_code;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "gen") == 0) return rp_cmd_gen(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "info") == 0) return rp_cmd_info(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "convert") == 0) return rp_cmd_convert(argc - 1, argv + 1);
    return rp_cmd_replay(argc, argv);
}

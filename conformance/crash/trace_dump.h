/*
 * trace_dump.h - `qed-conform trace dump LOG [--image INITIAL.qed]`: a
 * trace printed as a person reads it, one line per entry, each write
 * labelled with what it hit in the image (conformance/crash/layout.h).
 */
#ifndef CRASH_TRACE_DUMP_H
#define CRASH_TRACE_DUMP_H

/* Run `trace dump`: argv[0] is "dump", then its options and LOG.  Returns
 * the exit status: 0 printed, 2 on a usage or input error (a trace that
 * does not parse: the parser's message, naming the entry and field). */
int crash_trace_dump_main(int argc, char **argv);

#endif

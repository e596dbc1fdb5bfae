/*
 * common.h - what the capture tools (pcap-merge, pcap-filter,
 * pcap-summary) share, by concern: msg.h (messages, exit statuses),
 * text.h (numbers, times), output.h (atomic output, signals), inputs.h
 * (input lists), progress.h, capio.h (captures in and out: the one that
 * includes merge.h).  pcap-fetch includes only what it uses.  Tool code
 * only: the libraries never use these.
 */
#ifndef PCAPKIT_COMMON_H
#define PCAPKIT_COMMON_H

#include "capio.h"
#include "inputs.h"
#include "msg.h"
#include "output.h"
#include "progress.h"
#include "split.h"
#include "text.h"

#endif

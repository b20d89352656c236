/* quote: split the text of a message into what the customer wrote now and
 * what is quoted from earlier mail, forwarded, a signature, or marketplace
 * boilerplate around the buyer's words. Knows nothing of MIME or rules. */
#ifndef PEAKQ_QUOTE_H
#define PEAKQ_QUOTE_H

#include <stddef.h>

#include "buf.h"

/* Append the lines of text s[0..n) (UTF-8, LF line ends) to fresh or to
 * quoted:
 * - lines starting with '>' are quoted;
 * - from an attribution line on ("On <date>, <name> wrote:", possibly
 *   wrapped over two lines; "-----Original Message-----"; an Outlook
 *   "From:/Sent:" block; "在 <date>，<name> 写道：" and 寫道; QQ's
 *   "原始邮件" divider; "Forwarded message"), everything is quoted;
 * - from a signature delimiter ("-- ") or a mobile footer ("Sent from my
 *   iPhone", "发自我的iPhone") on, everything is quoted;
 * - in an Amazon Buyer-Seller message, only the text between
 *   "------------- Message: -------------" (or "Begin message") and
 *   "------------- End message -------------" is fresh.
 * Returns 0, or -1 when a buffer is full (what fit is kept). */
int quote_split(const char *s, size_t n, struct buf *fresh,
		struct buf *quoted) WARN_UNUSED;

#endif

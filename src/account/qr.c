/*
 * qr.c - QR codes as SVG (see qr.h).
 *
 * Invariants: the output is built in a strbuf bounded by LIMIT_QR_SVG_BYTES
 * and contains only numbers and fixed markup (the text is in the modules,
 * never written as characters); libqrencode's matrix is wiped and freed
 * before returning, since it encodes a secret.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <sodium.h>

#include "account/qr.h"
#include "base/err.h"
#include "base/policy.h"
#include "base/strbuf.h"

#define QR_QUIET 4 /* modules of white border (ISO/IEC 18004) */
#define QR_SCALE 5 /* default pixels per module (width and height attributes) */

/* One path of the dark modules: each horizontal run of a row is a 1-high
 * rectangle "M x y h len v1 h -len z". */
static void qr_path(struct strbuf *b, const QRcode *q)
{
    for (int y = 0; y < q->width; y++) {
        const unsigned char *row = q->data + (size_t)y * (size_t)q->width;
        for (int x = 0; x < q->width;) {
            if (!(row[x] & 1)) {
                x++;
                continue;
            }
            int start = x;
            while (x < q->width && (row[x] & 1))
                x++;
            strbuf_printf(b, "M%d %dh%dv1h-%dz", start + QR_QUIET, y + QR_QUIET, x - start,
                          x - start);
        }
    }
}

int qr_svg(const char *text, char **svg, size_t *n)
{
    struct strbuf b = STRBUF_INIT(LIMIT_QR_SVG_BYTES);
    QRcode *q;
    int side, rc;

    *svg = NULL;
    *n = 0;
    if (!text || !text[0])
        return ERR_INVALID;
    errno = 0;
    q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q)
        return errno == ENOMEM ? ERR_NOMEM : ERR_INVALID;
    side = q->width + 2 * QR_QUIET;
    strbuf_reserve(&b, 32u * 1024u); /* one allocation: no copy of the secret left behind */
    strbuf_printf(&b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
                  "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\"",
                  side * QR_SCALE, side * QR_SCALE, side, side, side, side);
    qr_path(&b, q);
    strbuf_puts(&b, "\"/></svg>\n");
    sodium_memzero(q->data, (size_t)q->width * (size_t)q->width);
    QRcode_free(q);
    rc = strbuf_take(&b, svg, n);
    return rc;
}

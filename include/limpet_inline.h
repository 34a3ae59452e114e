/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_inline.h - LIMPET_INLINE, for the functions of include/ that are
 * compiled both into the BPF programs (where every call must be inlined)
 * and into the controller and its tests.
 */
#ifndef LIMPET_INLINE_H
#define LIMPET_INLINE_H

#ifndef LIMPET_INLINE
#ifdef __bpf__
#define LIMPET_INLINE static __always_inline
#else
#define LIMPET_INLINE static inline
#endif
#endif

#endif /* LIMPET_INLINE_H */

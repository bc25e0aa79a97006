;; einnet's loops over tfjs-wasm's heap, in WebAssembly with 128-bit SIMD: the module imports the
;; memory of tfjs' WebAssembly backend, and every pointer is a byte offset of a tensor in it
;; (backends/wasm-kernels.ts calls these; `npm run build:wasm-kernels` assembles this file into
;; backends/wasm/kernels-wasm.ts). f32x4 arithmetic rounds each lane as a float32 operation does,
;; with no fused multiply-add, so the updates give tfjs' ops' values bit for bit. Loops run four
;; lanes at a time, then one element at a time for the rest.
(module
  (import "env" "memory" (memory 0))

  ;; dz[i] = y[i] > 0 ? dy[i] : 0 (NaN gives 0) for i < n, and acc[j] += dz[i] for i ≡ j (mod
  ;; period), acc being `period` float64 numbers set to 0 here; `period` is a multiple of 4 and of
  ;; the channel count, so acc[j] collects channel j mod channels.
  (func (export "reluBiasGrad") (param $dy i32) (param $y i32) (param $dz i32) (param $acc i32) (param $n i32) (param $period i32)
    (local $i i32) (local $j i32) (local $full i32) (local $p i32) (local $q i32) (local $v v128) (local $g f32)
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $period) (i32.const 3)))
    (local.set $full (i32.sub (local.get $n) (i32.rem_u (local.get $n) (local.get $period))))
    (block $blocks_done
      (loop $blocks
        (br_if $blocks_done (i32.ge_u (local.get $i) (local.get $full)))
        (local.set $j (i32.const 0))
        (loop $lanes
          (local.set $p (i32.shl (i32.add (local.get $i) (local.get $j)) (i32.const 2)))
          (local.set $v
            (v128.and
              (v128.load (i32.add (local.get $dy) (local.get $p)))
              (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $p))) (v128.const f32x4 0 0 0 0))))
          (v128.store (i32.add (local.get $dz) (local.get $p)) (local.get $v))
          (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
          (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $v))))
          (v128.store offset=16 (local.get $q)
            (f64x2.add
              (v128.load offset=16 (local.get $q))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $lanes (i32.lt_u (local.get $j) (local.get $period))))
        (local.set $i (i32.add (local.get $i) (local.get $period)))
        (br $blocks)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $p (i32.shl (local.get $i) (i32.const 2)))
        (local.set $g
          (select
            (f32.load (i32.add (local.get $dy) (local.get $p)))
            (f32.const 0)
            (f32.gt (f32.load (i32.add (local.get $y) (local.get $p))) (f32.const 0))))
        (f32.store (i32.add (local.get $dz) (local.get $p)) (local.get $g))
        (local.set $q (i32.add (local.get $acc) (i32.shl (i32.sub (local.get $i) (local.get $full)) (i32.const 3))))
        (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (f64.promote_f32 (local.get $g))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; Adam, per element, in the order of ops/update.ts' tfjs ops:
  ;;   g' = g + w·wd (when l2);  m' = m·β1 + g'·(1−β1);  v' = v·β2 + (g'·g')·(1−β2);
  ;;   w' = w − ((m'/c1)/(sqrt(v'/c2) + ε))·lr, then w' − w·(lr·wd) (when decay).
  (func (export "adamUpdate")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $wo i32) (param $mo i32) (param $vo i32) (param $n i32)
    (param $lr f32) (param $b1 f32) (param $b2 f32) (param $eps f32) (param $wd f32) (param $c1 f32) (param $c2 f32)
    (param $omb1 f32) (param $omb2 f32) (param $lrwd f32) (param $l2 i32) (param $decay i32)
    (local $p i32) (local $end i32) (local $vend i32)
    (local $wk v128) (local $grad v128) (local $mn v128) (local $vn v128) (local $next v128)
    (local $sw f32) (local $sg f32) (local $sm f32) (local $sv f32) (local $snext f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vec_done
      (loop $vec
        (br_if $vec_done (i32.ge_u (local.get $p) (local.get $vend)))
        (local.set $wk (v128.load (i32.add (local.get $w) (local.get $p))))
        (local.set $grad (v128.load (i32.add (local.get $g) (local.get $p))))
        (if (local.get $l2)
          (then (local.set $grad (f32x4.add (local.get $grad) (f32x4.mul (local.get $wk) (f32x4.splat (local.get $wd)))))))
        (local.set $mn
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $p))) (f32x4.splat (local.get $b1)))
            (f32x4.mul (local.get $grad) (f32x4.splat (local.get $omb1)))))
        (local.set $vn
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $p))) (f32x4.splat (local.get $b2)))
            (f32x4.mul (f32x4.mul (local.get $grad) (local.get $grad)) (f32x4.splat (local.get $omb2)))))
        (v128.store (i32.add (local.get $mo) (local.get $p)) (local.get $mn))
        (v128.store (i32.add (local.get $vo) (local.get $p)) (local.get $vn))
        (local.set $next
          (f32x4.sub
            (local.get $wk)
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $mn) (f32x4.splat (local.get $c1)))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vn) (f32x4.splat (local.get $c2)))) (f32x4.splat (local.get $eps))))
              (f32x4.splat (local.get $lr)))))
        (if (local.get $decay)
          (then (local.set $next (f32x4.sub (local.get $next) (f32x4.mul (local.get $wk) (f32x4.splat (local.get $lrwd)))))))
        (v128.store (i32.add (local.get $wo) (local.get $p)) (local.get $next))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $sw (f32.load (i32.add (local.get $w) (local.get $p))))
        (local.set $sg (f32.load (i32.add (local.get $g) (local.get $p))))
        (if (local.get $l2) (then (local.set $sg (f32.add (local.get $sg) (f32.mul (local.get $sw) (local.get $wd))))))
        (local.set $sm
          (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $p))) (local.get $b1)) (f32.mul (local.get $sg) (local.get $omb1))))
        (local.set $sv
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $p))) (local.get $b2))
            (f32.mul (f32.mul (local.get $sg) (local.get $sg)) (local.get $omb2))))
        (f32.store (i32.add (local.get $mo) (local.get $p)) (local.get $sm))
        (f32.store (i32.add (local.get $vo) (local.get $p)) (local.get $sv))
        (local.set $snext
          (f32.sub
            (local.get $sw)
            (f32.mul
              (f32.div
                (f32.div (local.get $sm) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $sv) (local.get $c2))) (local.get $eps)))
              (local.get $lr))))
        (if (local.get $decay) (then (local.set $snext (f32.sub (local.get $snext) (f32.mul (local.get $sw) (local.get $lrwd))))))
        (f32.store (i32.add (local.get $wo) (local.get $p)) (local.get $snext))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail))))

  ;; SGD, per element, in the order of ops/update.ts' tfjs ops:
  ;;   g' = g + w·wd (when wd ≠ 0);  v' = v·μ + g';  w' = w − (nesterov ? g' + v'·μ : v')·lr
  ;; (without momentum, w' = w − g'·lr, and v, vo are not touched).
  (func (export "sgdUpdate")
    (param $w i32) (param $g i32) (param $v i32) (param $wo i32) (param $vo i32) (param $n i32)
    (param $lr f32) (param $mu f32) (param $wd f32) (param $decay i32) (param $momentum i32) (param $nesterov i32)
    (local $p i32) (local $end i32) (local $vend i32) (local $wk v128) (local $grad v128) (local $step v128)
    (local $sw f32) (local $sg f32) (local $sstep f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vec_done
      (loop $vec
        (br_if $vec_done (i32.ge_u (local.get $p) (local.get $vend)))
        (local.set $wk (v128.load (i32.add (local.get $w) (local.get $p))))
        (local.set $grad (v128.load (i32.add (local.get $g) (local.get $p))))
        (if (local.get $decay)
          (then (local.set $grad (f32x4.add (local.get $grad) (f32x4.mul (local.get $wk) (f32x4.splat (local.get $wd)))))))
        (local.set $step (local.get $grad))
        (if (local.get $momentum)
          (then
            (local.set $step
              (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $p))) (f32x4.splat (local.get $mu))) (local.get $grad)))
            (v128.store (i32.add (local.get $vo) (local.get $p)) (local.get $step))
            (if (local.get $nesterov)
              (then (local.set $step (f32x4.add (local.get $grad) (f32x4.mul (local.get $step) (f32x4.splat (local.get $mu)))))))))
        (v128.store (i32.add (local.get $wo) (local.get $p))
          (f32x4.sub (local.get $wk) (f32x4.mul (local.get $step) (f32x4.splat (local.get $lr)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $sw (f32.load (i32.add (local.get $w) (local.get $p))))
        (local.set $sg (f32.load (i32.add (local.get $g) (local.get $p))))
        (if (local.get $decay) (then (local.set $sg (f32.add (local.get $sg) (f32.mul (local.get $sw) (local.get $wd))))))
        (local.set $sstep (local.get $sg))
        (if (local.get $momentum)
          (then
            (local.set $sstep (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $p))) (local.get $mu)) (local.get $sg)))
            (f32.store (i32.add (local.get $vo) (local.get $p)) (local.get $sstep))
            (if (local.get $nesterov)
              (then (local.set $sstep (f32.add (local.get $sg) (f32.mul (local.get $sstep) (local.get $mu))))))))
        (f32.store (i32.add (local.get $wo) (local.get $p)) (f32.sub (local.get $sw) (f32.mul (local.get $sstep) (local.get $lr))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail))))

  ;; out = v·m + b·k per element (a running statistic moved toward its batch value, k = 1 − m).
  (func (export "movingAverage") (param $v i32) (param $b i32) (param $out i32) (param $n i32) (param $m f32) (param $k f32)
    (local $p i32) (local $end i32) (local $vend i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vec_done
      (loop $vec
        (br_if $vec_done (i32.ge_u (local.get $p) (local.get $vend)))
        (v128.store (i32.add (local.get $out) (local.get $p))
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $p))) (f32x4.splat (local.get $m)))
            (f32x4.mul (v128.load (i32.add (local.get $b) (local.get $p))) (f32x4.splat (local.get $k)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (f32.store (i32.add (local.get $out) (local.get $p))
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $p))) (local.get $m))
            (f32.mul (f32.load (i32.add (local.get $b) (local.get $p))) (local.get $k))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail))))

  ;; dst[k] += src[k] for k < len (float32), four at a time, then one at a time.
  (func $addRun (param $dst i32) (param $src i32) (param $len i32)
    (local $p i32) (local $end i32) (local $vend i32)
    (local.set $end (i32.shl (local.get $len) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (block $vec_done
      (loop $vec
        (br_if $vec_done (i32.ge_u (local.get $p) (local.get $vend)))
        (v128.store (i32.add (local.get $dst) (local.get $p))
          (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $p))) (v128.load (i32.add (local.get $src) (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vec)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (f32.store (i32.add (local.get $dst) (local.get $p))
          (f32.add (f32.load (i32.add (local.get $dst) (local.get $p))) (f32.load (i32.add (local.get $src) (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail))))

  ;; Image patches summed back into the image [n, h, w, c] (NHWC): cols holds one row per output
  ;; position (b, u, v) of a convolution with windows kh×kw, strides sh, sw, dilations dh, dw and
  ;; padding pt (top), pl (left), and one column per window element (i, j, ch); dx = 0, then
  ;; dx[b, sh·u + dh·i − pt, sw·v + dw·j − pl, ch] += cols[(b, u, v), (i, j, ch)] wherever that
  ;; lands inside. With dw = 1, a window row's elements that land inside are one contiguous run
  ;; in both.
  (func (export "col2Im")
    (param $cols i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32) (param $pt i32) (param $pl i32)
    (local $b i32) (local $u i32) (local $v i32) (local $i i32) (local $j i32) (local $ty i32) (local $tx i32)
    (local $rowBytes i32) (local $src i32) (local $j0 i32) (local $j1 i32) (local $rowStart i32)
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $n) (local.get $h)) (i32.mul (local.get $w) (local.get $c))) (i32.const 2)))
    (local.set $rowBytes (i32.shl (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $c)) (i32.const 2)))
    (local.set $src (local.get $cols))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $u (i32.const 0))
        (block $u_done
          (loop $u_loop
            (br_if $u_done (i32.ge_u (local.get $u) (local.get $oh)))
            (local.set $v (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $v) (local.get $ow)))
                ;; j0, j1: the window columns whose tx = sw·v + dw·j − pl lands in [0, w)
                (local.set $j0 (i32.const 0))
                (block $j0_done
                  (loop $j0_loop
                    (br_if $j0_done (i32.ge_u (local.get $j0) (local.get $kw)))
                    (br_if $j0_done
                      (i32.ge_s (i32.sub (i32.add (i32.mul (local.get $sw) (local.get $v)) (i32.mul (local.get $dw) (local.get $j0))) (local.get $pl))
                        (i32.const 0)))
                    (local.set $j0 (i32.add (local.get $j0) (i32.const 1)))
                    (br $j0_loop)))
                (local.set $j1 (local.get $j0))
                (block $j1_done
                  (loop $j1_loop
                    (br_if $j1_done (i32.ge_u (local.get $j1) (local.get $kw)))
                    (br_if $j1_done
                      (i32.ge_s (i32.sub (i32.add (i32.mul (local.get $sw) (local.get $v)) (i32.mul (local.get $dw) (local.get $j1))) (local.get $pl))
                        (local.get $w)))
                    (local.set $j1 (i32.add (local.get $j1) (i32.const 1)))
                    (br $j1_loop)))
                (local.set $i (i32.const 0))
                (block $i_done
                  (loop $i_loop
                    (br_if $i_done (i32.ge_u (local.get $i) (local.get $kh)))
                    (local.set $ty (i32.sub (i32.add (i32.mul (local.get $sh) (local.get $u)) (i32.mul (local.get $dh) (local.get $i))) (local.get $pt)))
                    (if (i32.and (i32.ge_s (local.get $ty) (i32.const 0)) (i32.lt_s (local.get $ty) (local.get $h)))
                      (then
                        ;; rowStart = (b·h + ty)·w, the image row's first position
                        (local.set $rowStart (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ty)) (local.get $w)))
                        (if (i32.eq (local.get $dw) (i32.const 1))
                          (then
                            (if (i32.lt_u (local.get $j0) (local.get $j1))
                              (then
                                (local.set $tx (i32.sub (i32.add (i32.mul (local.get $sw) (local.get $v)) (local.get $j0)) (local.get $pl)))
                                (call $addRun
                                  (i32.add (local.get $dx)
                                    (i32.shl (i32.mul (i32.add (local.get $rowStart) (local.get $tx)) (local.get $c)) (i32.const 2)))
                                  (i32.add (local.get $src)
                                    (i32.shl (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j0)) (local.get $c)) (i32.const 2)))
                                  (i32.mul (i32.sub (local.get $j1) (local.get $j0)) (local.get $c))))))
                          (else
                            (local.set $j (local.get $j0))
                            (block $j_done
                              (loop $j_loop
                                (br_if $j_done (i32.ge_u (local.get $j) (local.get $j1)))
                                (local.set $tx
                                  (i32.sub (i32.add (i32.mul (local.get $sw) (local.get $v)) (i32.mul (local.get $dw) (local.get $j))) (local.get $pl)))
                                (call $addRun
                                  (i32.add (local.get $dx)
                                    (i32.shl (i32.mul (i32.add (local.get $rowStart) (local.get $tx)) (local.get $c)) (i32.const 2)))
                                  (i32.add (local.get $src)
                                    (i32.shl (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $c)) (i32.const 2)))
                                  (local.get $c))
                                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                                (br $j_loop)))))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $i_loop)))
                (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
                (local.set $v (i32.add (local.get $v) (i32.const 1)))
                (br $v_loop)))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $u_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))

  ;; The filter gradient of a convolution of x [n, h, w, c] (NHWC) giving dz [n, oh, ow, o] with
  ;; windows kh×kw, strides sh, sw, dilations dh, dwl and padding pt (top), pl (left), into
  ;; dw [kh, kw, c, o]: dw[i, j, ch, oc] = Σ over (b, y, x) of
  ;; x[b, sh·y + dh·i − pt, sw·x + dwl·j − pl, ch]·dz[b, y, x, oc], padding counting 0. Per row
  ;; (i, j, ch), up to 16 output channels at a time in four f32x4 sums, each x element broadcast
  ;; against a stretch of dz's channels; a chunk narrower than 16 overlaps its last four-lane
  ;; group with the one before (the lanes they share get the same sums). Needs o ≥ 4.
  (func (export "convFilterGrad")
    (param $x i32) (param $dz i32) (param $dw i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $oh i32) (param $ow i32)
    (param $o i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dwl i32) (param $pt i32) (param $pl i32)
    (local $chunk i32) (local $width i32) (local $groups i32) (local $last i32) (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local $i i32) (local $j i32) (local $ch i32) (local $b i32) (local $y i32) (local $ty i32) (local $tx0 i32) (local $x0 i32) (local $x1 i32)
    (local $src i32) (local $d i32) (local $sstep i32) (local $dstep i32) (local $cnt i32) (local $out i32)
    (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $sstep (i32.shl (i32.mul (local.get $sw) (local.get $c)) (i32.const 2)))
    (local.set $dstep (i32.shl (local.get $o) (i32.const 2)))
    (loop $chunks
      ;; width = min(16, o − chunk); a chunk narrower than 4 starts at o − 4 instead
      (local.set $width (i32.sub (local.get $o) (local.get $chunk)))
      (if (i32.gt_u (local.get $width) (i32.const 16)) (then (local.set $width (i32.const 16))))
      (if (i32.lt_u (local.get $width) (i32.const 4))
        (then
          (local.set $chunk (i32.sub (local.get $o) (i32.const 4)))
          (local.set $width (i32.const 4))))
      (local.set $groups (i32.shr_u (i32.add (local.get $width) (i32.const 3)) (i32.const 2)))
      (local.set $last (i32.sub (local.get $width) (i32.const 4)))
      ;; group g starts at channel min(4g, width − 4) of the chunk, in bytes
      (local.set $q1
        (i32.shl (select (i32.const 4) (local.get $last) (i32.lt_u (i32.const 4) (local.get $last))) (i32.const 2)))
      (local.set $q2
        (i32.shl (select (i32.const 8) (local.get $last) (i32.lt_u (i32.const 8) (local.get $last))) (i32.const 2)))
      (local.set $q3
        (i32.shl (select (i32.const 12) (local.get $last) (i32.lt_u (i32.const 12) (local.get $last))) (i32.const 2)))
      (local.set $i (i32.const 0))
      (loop $i_loop
        (local.set $j (i32.const 0))
        (loop $j_loop
          ;; tx = sw·x + tx0; x0, x1: the columns whose tx lands in [0, w)
          (local.set $tx0 (i32.sub (i32.mul (local.get $dwl) (local.get $j)) (local.get $pl)))
          (local.set $x0 (i32.const 0))
          (block $x0_done
            (loop $x0_loop
              (br_if $x0_done (i32.ge_u (local.get $x0) (local.get $ow)))
              (br_if $x0_done (i32.ge_s (i32.add (i32.mul (local.get $sw) (local.get $x0)) (local.get $tx0)) (i32.const 0)))
              (local.set $x0 (i32.add (local.get $x0) (i32.const 1)))
              (br $x0_loop)))
          (local.set $x1 (local.get $x0))
          (block $x1_done
            (loop $x1_loop
              (br_if $x1_done (i32.ge_u (local.get $x1) (local.get $ow)))
              (br_if $x1_done (i32.ge_s (i32.add (i32.mul (local.get $sw) (local.get $x1)) (local.get $tx0)) (local.get $w)))
              (local.set $x1 (i32.add (local.get $x1) (i32.const 1)))
              (br $x1_loop)))
          (local.set $ch (i32.const 0))
          (loop $ch_loop
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (if (i32.lt_u (local.get $x0) (local.get $x1))
              (then
                (local.set $b (i32.const 0))
                (loop $b_loop
                  (local.set $y (i32.const 0))
                  (loop $y_loop
                    (local.set $ty (i32.sub (i32.add (i32.mul (local.get $sh) (local.get $y)) (i32.mul (local.get $dh) (local.get $i))) (local.get $pt)))
                    (if (i32.and (i32.ge_s (local.get $ty) (i32.const 0)) (i32.lt_s (local.get $ty) (local.get $h)))
                      (then
                        ;; src = x[b, ty, sw·x0 + tx0, ch]; d = dz[b, y, x0, chunk]
                        (local.set $src
                          (i32.add (local.get $x)
                            (i32.shl
                              (i32.add
                                (i32.mul
                                  (i32.add
                                    (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ty)) (local.get $w))
                                    (i32.add (i32.mul (local.get $sw) (local.get $x0)) (local.get $tx0)))
                                  (local.get $c))
                                (local.get $ch))
                              (i32.const 2))))
                        (local.set $d
                          (i32.add (local.get $dz)
                            (i32.shl
                              (i32.add
                                (i32.mul
                                  (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $y)) (local.get $ow)) (local.get $x0))
                                  (local.get $o))
                                (local.get $chunk))
                              (i32.const 2))))
                        (local.set $cnt (i32.sub (local.get $x1) (local.get $x0)))
                        (if (i32.eq (local.get $groups) (i32.const 4))
                          (then
                          (loop $x4
                            (local.set $s (f32x4.splat (f32.load (local.get $src))))
                            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load (local.get $d)))))
                            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $d) (local.get $q1))))))
                            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $d) (local.get $q2))))))
                            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $d) (local.get $q3))))))
                            (local.set $src (i32.add (local.get $src) (local.get $sstep)))
                            (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                            (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
                            (br_if $x4 (local.get $cnt))))
                          (else
                            (if (i32.eq (local.get $groups) (i32.const 3))
                              (then
                          (loop $x3
                            (local.set $s (f32x4.splat (f32.load (local.get $src))))
                            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load (local.get $d)))))
                            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $d) (local.get $q1))))))
                            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $d) (local.get $q2))))))
                            (local.set $src (i32.add (local.get $src) (local.get $sstep)))
                            (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                            (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
                            (br_if $x3 (local.get $cnt))))
                              (else
                                (if (i32.eq (local.get $groups) (i32.const 2))
                                  (then
                          (loop $x2
                            (local.set $s (f32x4.splat (f32.load (local.get $src))))
                            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load (local.get $d)))))
                            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $d) (local.get $q1))))))
                            (local.set $src (i32.add (local.get $src) (local.get $sstep)))
                            (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                            (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
                            (br_if $x2 (local.get $cnt))))
                                  (else
                          (loop $x1
                            (local.set $s (f32x4.splat (f32.load (local.get $src))))
                            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (v128.load (local.get $d)))))
                            (local.set $src (i32.add (local.get $src) (local.get $sstep)))
                            (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                            (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
                            (br_if $x1 (local.get $cnt)))))))))))
                    (local.set $y (i32.add (local.get $y) (i32.const 1)))
                    (br_if $y_loop (i32.lt_u (local.get $y) (local.get $oh))))
                  (local.set $b (i32.add (local.get $b) (i32.const 1)))
                  (br_if $b_loop (i32.lt_u (local.get $b) (local.get $n))))))
            ;; dw[i, j, ch, chunk …]
            (local.set $out
              (i32.add (local.get $dw)
                (i32.shl
                  (i32.add
                    (i32.mul
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $c)) (local.get $ch))
                      (local.get $o))
                    (local.get $chunk))
                  (i32.const 2))))
            (v128.store (local.get $out) (local.get $a0))
            (if (i32.gt_u (local.get $groups) (i32.const 1)) (then (v128.store (i32.add (local.get $out) (local.get $q1)) (local.get $a1))))
            (if (i32.gt_u (local.get $groups) (i32.const 2)) (then (v128.store (i32.add (local.get $out) (local.get $q2)) (local.get $a2))))
            (if (i32.gt_u (local.get $groups) (i32.const 3)) (then (v128.store (i32.add (local.get $out) (local.get $q3)) (local.get $a3))))
            (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
            (br_if $ch_loop (i32.lt_u (local.get $ch) (local.get $c))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $j_loop (i32.lt_u (local.get $j) (local.get $kw))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $i_loop (i32.lt_u (local.get $i) (local.get $kh))))
      (local.set $chunk (i32.add (local.get $chunk) (i32.const 16)))
      (br_if $chunks (i32.lt_u (local.get $chunk) (local.get $o)))))

  ;; A 'valid' max pooling of x [n, h, w, c] (NHWC) by windows kh×kw with strides sh, sw into y
  ;; [n, oh, ow, c], in which a window holding NaN gives NaN; otherwise its largest value, ±∞
  ;; included. Sixteen channels at a time, then four: f32x4.pmax (one instruction, where the
  ;; NaN-propagating max is several) with the NaN lanes collected in a mask; the rest of the
  ;; channels one at a time (f32.max, which propagates NaN).
  (func (export "maxPoolNaN")
    (param $x i32) (param $y i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (local $b i32) (local $u i32) (local $v i32) (local $k i32) (local $i i32) (local $j i32)
    (local $first i32) (local $row i32) (local $p i32) (local $out i32) (local $rowBytes i32) (local $colBytes i32)
    (local $best v128) (local $best1 v128) (local $best2 v128) (local $best3 v128)
    (local $nan v128) (local $nan1 v128) (local $nan2 v128) (local $nan3 v128) (local $val v128) (local $sbest f32)
    (local.set $rowBytes (i32.shl (i32.mul (local.get $w) (local.get $c)) (i32.const 2)))
    (local.set $colBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $out (local.get $y))
    (local.set $b (i32.const 0))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $u (i32.const 0))
        (block $u_done
          (loop $u_loop
            (br_if $u_done (i32.ge_u (local.get $u) (local.get $oh)))
            (local.set $v (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $v) (local.get $ow)))
                ;; first = x + ((b·h + u·sh)·w + v·sw)·c·4, the window's first element
                (local.set $first
                  (i32.add (local.get $x)
                    (i32.shl
                      (i32.mul
                        (i32.add
                          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.mul (local.get $u) (local.get $sh))) (local.get $w))
                          (i32.mul (local.get $v) (local.get $sw)))
                        (local.get $c))
                      (i32.const 2))))
                (local.set $k (i32.const 0))
                (block $k16_done
                  (loop $k16
                    (br_if $k16_done (i32.gt_u (i32.add (local.get $k) (i32.const 16)) (local.get $c)))
                    (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
                    (local.set $best1 (local.get $best))
                    (local.set $best2 (local.get $best))
                    (local.set $best3 (local.get $best))
                    (local.set $nan (v128.const i32x4 0 0 0 0))
                    (local.set $nan1 (local.get $nan))
                    (local.set $nan2 (local.get $nan))
                    (local.set $nan3 (local.get $nan))
                    (local.set $row (i32.add (local.get $first) (i32.shl (local.get $k) (i32.const 2))))
                    (local.set $i (i32.const 0))
                    (loop $i16
                      (local.set $p (local.get $row))
                      (local.set $j (i32.const 0))
                      (loop $j16
                        (local.set $val (v128.load (local.get $p)))
                        (local.set $best (f32x4.pmax (local.get $best) (local.get $val)))
                        (local.set $nan (v128.or (local.get $nan) (f32x4.ne (local.get $val) (local.get $val))))
                        (local.set $val (v128.load offset=16 (local.get $p)))
                        (local.set $best1 (f32x4.pmax (local.get $best1) (local.get $val)))
                        (local.set $nan1 (v128.or (local.get $nan1) (f32x4.ne (local.get $val) (local.get $val))))
                        (local.set $val (v128.load offset=32 (local.get $p)))
                        (local.set $best2 (f32x4.pmax (local.get $best2) (local.get $val)))
                        (local.set $nan2 (v128.or (local.get $nan2) (f32x4.ne (local.get $val) (local.get $val))))
                        (local.set $val (v128.load offset=48 (local.get $p)))
                        (local.set $best3 (f32x4.pmax (local.get $best3) (local.get $val)))
                        (local.set $nan3 (v128.or (local.get $nan3) (f32x4.ne (local.get $val) (local.get $val))))
                        (local.set $p (i32.add (local.get $p) (local.get $colBytes)))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br_if $j16 (i32.lt_u (local.get $j) (local.get $kw))))
                      (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $i16 (i32.lt_u (local.get $i) (local.get $kh))))
                    (v128.store (local.get $out) (v128.bitselect (v128.const f32x4 nan nan nan nan) (local.get $best) (local.get $nan)))
                    (v128.store offset=16 (local.get $out) (v128.bitselect (v128.const f32x4 nan nan nan nan) (local.get $best1) (local.get $nan1)))
                    (v128.store offset=32 (local.get $out) (v128.bitselect (v128.const f32x4 nan nan nan nan) (local.get $best2) (local.get $nan2)))
                    (v128.store offset=48 (local.get $out) (v128.bitselect (v128.const f32x4 nan nan nan nan) (local.get $best3) (local.get $nan3)))
                    (local.set $out (i32.add (local.get $out) (i32.const 64)))
                    (local.set $k (i32.add (local.get $k) (i32.const 16)))
                    (br $k16)))
                (block $k4_done
                  (loop $k4
                    (br_if $k4_done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $c)))
                    (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
                    (local.set $nan (v128.const i32x4 0 0 0 0))
                    (local.set $row (i32.add (local.get $first) (i32.shl (local.get $k) (i32.const 2))))
                    (local.set $i (i32.const 0))
                    (loop $i4
                      (local.set $p (local.get $row))
                      (local.set $j (i32.const 0))
                      (loop $j4
                        (local.set $val (v128.load (local.get $p)))
                        (local.set $best (f32x4.pmax (local.get $best) (local.get $val)))
                        (local.set $nan (v128.or (local.get $nan) (f32x4.ne (local.get $val) (local.get $val))))
                        (local.set $p (i32.add (local.get $p) (local.get $colBytes)))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br_if $j4 (i32.lt_u (local.get $j) (local.get $kw))))
                      (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $i4 (i32.lt_u (local.get $i) (local.get $kh))))
                    (v128.store (local.get $out)
                      (v128.bitselect (v128.const f32x4 nan nan nan nan) (local.get $best) (local.get $nan)))
                    (local.set $out (i32.add (local.get $out) (i32.const 16)))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $k4)))
                (block $k1_done
                  (loop $k1
                    (br_if $k1_done (i32.ge_u (local.get $k) (local.get $c)))
                    (local.set $sbest (f32.const -inf))
                    (local.set $row (i32.add (local.get $first) (i32.shl (local.get $k) (i32.const 2))))
                    (local.set $i (i32.const 0))
                    (loop $i1
                      (local.set $p (local.get $row))
                      (local.set $j (i32.const 0))
                      (loop $j1
                        (local.set $sbest (f32.max (local.get $sbest) (f32.load (local.get $p))))
                        (local.set $p (i32.add (local.get $p) (local.get $colBytes)))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br_if $j1 (i32.lt_u (local.get $j) (local.get $kw))))
                      (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $i1 (i32.lt_u (local.get $i) (local.get $kh))))
                    (f32.store (local.get $out) (local.get $sbest))
                    (local.set $out (i32.add (local.get $out) (i32.const 4)))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $k1)))
                (local.set $v (i32.add (local.get $v) (i32.const 1)))
                (br $v_loop)))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $u_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))

  ;; The gradient of a 'valid' max pooling of x [n, h, w, c] (NHWC) by windows kh×kw with strides
  ;; sh, sw: dx = 0, then each window's dy goes to the first of its largest elements in row-major
  ;; window order (NaN is never largest; a window of no number gives its first element). Four
  ;; channels of a window at a time, the rest of the channels one at a time.
  (func (export "maxPoolGrad")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32)
    (local $b i32) (local $u i32) (local $v i32) (local $k i32) (local $i i32) (local $j i32)
    (local $first i32) (local $base i32) (local $from i32) (local $q i32)
    (local $best v128) (local $at v128) (local $val v128) (local $mask v128) (local $idx v128)
    (local $sbest f32) (local $sat i32) (local $sval f32)
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $n) (local.get $h)) (i32.mul (local.get $w) (local.get $c))) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $b_done
      (loop $b_loop
        (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $u (i32.const 0))
        (block $u_done
          (loop $u_loop
            (br_if $u_done (i32.ge_u (local.get $u) (local.get $oh)))
            (local.set $v (i32.const 0))
            (block $v_done
              (loop $v_loop
                (br_if $v_done (i32.ge_u (local.get $v) (local.get $ow)))
                ;; first = ((b·h + u·sh)·w + v·sw)·c; from = ((b·oh + u)·ow + v)·c
                (local.set $first
                  (i32.mul
                    (i32.add
                      (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.mul (local.get $u) (local.get $sh))) (local.get $w))
                      (i32.mul (local.get $v) (local.get $sw)))
                    (local.get $c)))
                (local.set $from
                  (i32.mul
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $u)) (local.get $ow)) (local.get $v))
                    (local.get $c)))
                (local.set $k (i32.const 0))
                (block $k4_done
                  (loop $k4
                    (br_if $k4_done (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $c)))
                    (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
                    (local.set $at (i32x4.add (i32x4.splat (i32.add (local.get $first) (local.get $k))) (v128.const i32x4 0 1 2 3)))
                    (local.set $i (i32.const 0))
                    (loop $i4
                      (local.set $j (i32.const 0))
                      (loop $j4
                        ;; base = first + (i·w + j)·c + k
                        (local.set $base
                          (i32.add
                            (i32.add (local.get $first) (i32.mul (i32.add (i32.mul (local.get $i) (local.get $w)) (local.get $j)) (local.get $c)))
                            (local.get $k)))
                        (local.set $val (v128.load (i32.add (local.get $x) (i32.shl (local.get $base) (i32.const 2)))))
                        (local.set $idx (i32x4.add (i32x4.splat (local.get $base)) (v128.const i32x4 0 1 2 3)))
                        (local.set $mask (f32x4.gt (local.get $val) (local.get $best)))
                        (local.set $best (v128.bitselect (local.get $val) (local.get $best) (local.get $mask)))
                        (local.set $at (v128.bitselect (local.get $idx) (local.get $at) (local.get $mask)))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br_if $j4 (i32.lt_u (local.get $j) (local.get $kw))))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $i4 (i32.lt_u (local.get $i) (local.get $kh))))
                    ;; dx[at[l]] += dy[from + k + l] for the four lanes
                    (local.set $q (i32.add (local.get $dy) (i32.shl (i32.add (local.get $from) (local.get $k)) (i32.const 2))))
                    (local.set $base (i32.add (local.get $dx) (i32.shl (i32x4.extract_lane 0 (local.get $at)) (i32.const 2))))
                    (f32.store (local.get $base) (f32.add (f32.load (local.get $base)) (f32.load (local.get $q))))
                    (local.set $base (i32.add (local.get $dx) (i32.shl (i32x4.extract_lane 1 (local.get $at)) (i32.const 2))))
                    (f32.store (local.get $base) (f32.add (f32.load (local.get $base)) (f32.load offset=4 (local.get $q))))
                    (local.set $base (i32.add (local.get $dx) (i32.shl (i32x4.extract_lane 2 (local.get $at)) (i32.const 2))))
                    (f32.store (local.get $base) (f32.add (f32.load (local.get $base)) (f32.load offset=8 (local.get $q))))
                    (local.set $base (i32.add (local.get $dx) (i32.shl (i32x4.extract_lane 3 (local.get $at)) (i32.const 2))))
                    (f32.store (local.get $base) (f32.add (f32.load (local.get $base)) (f32.load offset=12 (local.get $q))))
                    (local.set $k (i32.add (local.get $k) (i32.const 4)))
                    (br $k4)))
                (block $k1_done
                  (loop $k1
                    (br_if $k1_done (i32.ge_u (local.get $k) (local.get $c)))
                    (local.set $sbest (f32.const -inf))
                    (local.set $sat (i32.add (local.get $first) (local.get $k)))
                    (local.set $i (i32.const 0))
                    (loop $i1
                      (local.set $j (i32.const 0))
                      (loop $j1
                        (local.set $base
                          (i32.add
                            (i32.add (local.get $first) (i32.mul (i32.add (i32.mul (local.get $i) (local.get $w)) (local.get $j)) (local.get $c)))
                            (local.get $k)))
                        (local.set $sval (f32.load (i32.add (local.get $x) (i32.shl (local.get $base) (i32.const 2)))))
                        (if (f32.gt (local.get $sval) (local.get $sbest))
                          (then
                            (local.set $sbest (local.get $sval))
                            (local.set $sat (local.get $base))))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br_if $j1 (i32.lt_u (local.get $j) (local.get $kw))))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $i1 (i32.lt_u (local.get $i) (local.get $kh))))
                    (local.set $base (i32.add (local.get $dx) (i32.shl (local.get $sat) (i32.const 2))))
                    (f32.store (local.get $base)
                      (f32.add
                        (f32.load (local.get $base))
                        (f32.load (i32.add (local.get $dy) (i32.shl (i32.add (local.get $from) (local.get $k)) (i32.const 2))))))
                    (local.set $k (i32.add (local.get $k) (i32.const 1)))
                    (br $k1)))
                (local.set $v (i32.add (local.get $v) (i32.const 1)))
                (br $v_loop)))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $u_loop)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $b_loop))))
)

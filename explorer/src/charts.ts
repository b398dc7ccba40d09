/**
 * Small SVG charts drawn by hand: line/bar charts over a block series and a donut for shares.
 * Line charts are drawn at their container's pixel width (and redrawn when it changes), so
 * text and strokes keep their size from phone to desktop.
 */
import { h, svg } from './dom.ts'
import { niceCeil } from './stats.ts'

export interface Point {
  x: number
  y: number
}

export interface Series {
  name: string
  points: Point[]
}

export interface LineChartOptions {
  title: string
  series: Series[]
  yFormat: (v: number) => string
  /** Point tooltips (default: yFormat). */
  tipFormat?: (v: number) => string
  xFormat?: (v: number) => string
  /** 'bar' draws one bar per point of the first series. */
  kind?: 'line' | 'bar'
  height?: number
  /** Test hook and CSS hook. */
  id?: string
}

const PAD = { top: 10, right: 12, bottom: 22, left: 64 }
/** Above this many points, markers are left out (the line says it all). */
const MAX_MARKERS = 300

export function lineChart(opts: LineChartOptions): HTMLElement {
  const height = opts.height ?? 180
  const total = opts.series.reduce((n, s) => n + s.points.length, 0)
  const plot = h('div', { class: 'chart-plot' })
  const legend = opts.series.length > 1
    ? h('span', { class: 'chart-legend' }, opts.series.map((s, i) => h('span', { class: `key k${i}` }, s.name)))
    : null
  const fig = h('figure', { class: 'chart', 'data-chart': opts.id ?? opts.title },
    h('figcaption', null, h('span', { class: 'chart-title' }, opts.title), legend),
    plot,
  )
  if (total === 0) {
    plot.append(h('p', { class: 'muted chart-empty' }, 'No data yet.'))
    return fig
  }
  let drawnWidth = 0
  const draw = (width: number): void => {
    if (width <= 0 || width === drawnWidth) return
    drawnWidth = width
    plot.replaceChildren(drawChart(opts, width, height, total))
  }
  draw(600)
  let shown = false
  const observer = new ResizeObserver((entries) => {
    // A chart taken off the page (the page changed or refreshed) stops being observed.
    if (!plot.isConnected) {
      if (shown) observer.disconnect()
      return
    }
    shown = true
    for (const e of entries) draw(Math.floor(e.contentRect.width))
  })
  observer.observe(plot)
  return fig
}

function drawChart(opts: LineChartOptions, width: number, height: number, total: number): SVGSVGElement {
  const all = opts.series.flatMap((s) => s.points)
  const xs = all.map((p) => p.x)
  const ys = all.map((p) => p.y).filter(Number.isFinite)
  const xMin = Math.min(...xs)
  const xMax = Math.max(...xs)
  const yMin = Math.min(0, ...ys)
  const yMax = niceCeil(Math.max(...ys, 0), yMin)
  const w = width - PAD.left - PAD.right
  const hgt = height - PAD.top - PAD.bottom
  const sx = (x: number) => PAD.left + (xMax === xMin ? w / 2 : ((x - xMin) / (xMax - xMin)) * w)
  const sy = (y: number) => PAD.top + hgt - ((y - yMin) / (yMax - yMin)) * hgt
  const xFormat = opts.xFormat ?? ((x: number) => String(x))
  const tip = opts.tipFormat ?? opts.yFormat

  const grid = [yMin, (yMin + yMax) / 2, yMax].map((v) =>
    svg('g', { class: 'grid' },
      svg('line', { x1: PAD.left, x2: width - PAD.right, y1: sy(v), y2: sy(v) }),
      svg('text', { x: PAD.left - 6, y: sy(v) + 4, 'text-anchor': 'end' }, opts.yFormat(v)),
    ),
  )
  const xLabels = svg('g', { class: 'axis' },
    svg('text', { x: PAD.left, y: height - 6, 'text-anchor': 'start' }, xFormat(xMin)),
    svg('text', { x: width - PAD.right, y: height - 6, 'text-anchor': 'end' }, xFormat(xMax)),
  )

  const body: SVGElement[] = []
  if (opts.kind === 'bar') {
    const pts = opts.series[0]!.points
    const step = pts.length > 1 ? w / pts.length : w / 4
    const bw = Math.max(1, step * 0.8)
    for (const p of pts) {
      const top = sy(Math.max(p.y, 0))
      body.push(svg('rect', { class: 'bar s0', x: sx(p.x) - bw / 2, y: top, width: bw, height: Math.max(0, sy(0) - top) },
        svg('title', null, `${xFormat(p.x)}: ${tip(p.y)}`)))
    }
  } else {
    opts.series.forEach((s, i) => {
      const pts = s.points.filter((p) => Number.isFinite(p.y))
      body.push(svg('polyline', { class: `line s${i}`, points: pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ') }))
      if (total <= MAX_MARKERS) {
        for (const p of pts) {
          body.push(svg('circle', { class: `dot s${i}`, cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: 2.5 },
            svg('title', null, `${s.name} at ${xFormat(p.x)}: ${tip(p.y)}`)))
        }
      }
    })
  }
  return svg('svg', {
    class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}`,
    role: 'img', 'aria-label': opts.title, 'data-points': total,
  }, grid, xLabels, body)
}

export interface Slice {
  label: string
  value: number
  href?: string
}

/** A donut of shares with a legend; slices past the ninth are grouped as "others". */
export function pieChart(title: string, slices: Slice[], format: (share: number) => string): HTMLElement {
  const sorted = [...slices].filter((s) => s.value > 0).sort((a, b) => b.value - a.value)
  const shown = sorted.length > 10 ? [...sorted.slice(0, 9), { label: `${sorted.length - 9} others`, value: sorted.slice(9).reduce((n, s) => n + s.value, 0) }] : sorted
  const total = shown.reduce((n, s) => n + s.value, 0)
  const size = 160
  const r = 70
  const inner = 42
  const c = size / 2
  const paths: SVGElement[] = []
  let angle = -Math.PI / 2
  shown.forEach((s, i) => {
    const share = total === 0 ? 0 : s.value / total
    const cls = `slice s${i}`
    const tip = svg('title', null, `${s.label}: ${format(share)}`)
    if (share >= 0.9999) {
      paths.push(svg('circle', { class: cls, cx: c, cy: c, r: (r + inner) / 2, 'stroke-width': r - inner, fill: 'none' }, tip))
      return
    }
    const end = angle + share * 2 * Math.PI
    const large = end - angle > Math.PI ? 1 : 0
    const p = (a: number, rad: number) => `${(c + rad * Math.cos(a)).toFixed(2)} ${(c + rad * Math.sin(a)).toFixed(2)}`
    const d = `M ${p(angle, r)} A ${r} ${r} 0 ${large} 1 ${p(end, r)} L ${p(end, inner)} A ${inner} ${inner} 0 ${large} 0 ${p(angle, inner)} Z`
    paths.push(svg('path', { class: cls, d }, tip))
    angle = end
  })
  const donut = svg('svg', { class: 'pie-svg', width: size, height: size, viewBox: `0 0 ${size} ${size}`, role: 'img', 'aria-label': title, 'data-points': shown.length }, paths)
  const legend = h('ul', { class: 'pie-legend' },
    shown.map((s, i) => h('li', null,
      h('span', { class: `swatch s${i}` }),
      s.href ? h('a', { href: s.href, class: 'mono ellipsis' }, s.label) : h('span', { class: 'mono ellipsis' }, s.label),
      h('span', { class: 'share' }, format(total === 0 ? 0 : s.value / total)),
    )),
  )
  return h('figure', { class: 'chart pie', 'data-chart': title },
    h('figcaption', null, h('span', { class: 'chart-title' }, title)),
    h('div', { class: 'pie-body' }, shown.length === 0 ? h('p', { class: 'muted' }, 'No blocks in the window.') : [donut, legend]),
  )
}

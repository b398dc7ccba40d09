/**
 * Charts for lab reports: ECharts options rendered to SVG in Node without a browser
 * (`renderer: 'svg', ssr: true`). No animation, fixed size: same data, same SVG bytes.
 * @module
 */
import * as echarts from 'echarts'

export interface ChartSpec {
  /** File name stem: the SVG is written as `<experiment>-<name>.svg`. */
  name: string
  title: string
  /** An ECharts option (title, axes, series...). */
  option: Record<string, unknown>
  width?: number
  height?: number
}

export function renderChartSvg(spec: ChartSpec): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: spec.width ?? 800, height: spec.height ?? 480 })
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      title: { text: spec.title, left: 'center', textStyle: { fontSize: 14 } },
      ...spec.option,
    })
    return stableClassNames(chart.renderToSVGString())
  } finally {
    chart.dispose()
  }
}

/**
 * zrender names its hover-style CSS classes and its clip-path ids from process-wide counters
 * (zr3-cls-17, zr3-c0): renumber them so the same chart gives the same bytes whatever was drawn before.
 */
function stableClassNames(svg: string): string {
  const ids = new Map<string, number>()
  const classes = svg.replace(/zr\d+-cls-\d+/g, (name) => {
    let id = ids.get(name)
    if (id === undefined) ids.set(name, (id = ids.size))
    return `zr-cls-${id}`
  })
  // Ids of clip paths and gradients carry the instance number (zr3-c0): one SVG per file, so drop it.
  return classes.replace(/\bzr\d+-/g, 'zr-')
}

/** A line series from [x, y] points. */
export function lineSeries(name: string, points: [number, number][], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, type: 'line', data: points, showSymbol: points.length <= 60, ...extra }
}

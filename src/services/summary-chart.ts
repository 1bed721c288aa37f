import { createRequire } from 'node:module';
import path from 'node:path';
import type * as ResvgJs from '@resvg/resvg-js';
import type * as Echarts from 'echarts';
import type { ChildBreakdown } from '../domain/summary.ts';

let echartsModule: typeof Echarts | undefined;
let resvgModule: typeof ResvgJs | undefined;

/**
 * echarts is loaded at the first chart, not at start-up: it is the largest module the service loads
 * (about 80 MB of resident memory per process under tsx, bench/inbound.ts), and most processes of most
 * days draw no chart. Its CommonJS build is the full one (SVG renderer and server-side rendering included).
 */
function echarts(): typeof Echarts {
  echartsModule ??= createRequire(import.meta.url)('echarts') as typeof Echarts;
  return echartsModule;
}

/** resvg (a native addon, a few MB resident) is loaded at the first chart too, for the same reason. */
function resvgJs(): typeof ResvgJs {
  resvgModule ??= createRequire(import.meta.url)('@resvg/resvg-js') as typeof ResvgJs;
  return resvgModule;
}

const FONT_FAMILY = 'Noto Sans';
let fonts: string[] | undefined;

/**
 * Noto Sans (full TTFs from @expo-google-fonts/noto-sans: every Vietnamese glyph in one file), loaded
 * explicitly by path; no system fonts, so the picture is the same on every machine. resvg-js for Node
 * takes font files by path (its `fontBuffers` option exists only in the wasm build).
 */
function fontFiles(): string[] {
  if (fonts) return fonts;
  const packageJson = createRequire(import.meta.url).resolve('@expo-google-fonts/noto-sans/package.json');
  fonts = ['400Regular/NotoSans_400Regular.ttf', '700Bold/NotoSans_700Bold.ttf'].map((file) =>
    path.join(path.dirname(packageJson), file),
  );
  return fonts;
}

export interface ChartText {
  title: string;
  subtitle: string;
  axis: string;
  empty: string;
  /** Legend names, in the order done, in progress, blocked, not started, no report. */
  series: [string, string, string, string, string];
}

const COLORS = ['#2e9d4f', '#2f6fd6', '#f0a020', '#d64541', '#b8bec6'];
const FIELDS = ['done', 'inProgress', 'blocked', 'notStarted', 'noReport'] as const;
const WIDTH = 1080;

const shorten = (name: string, max = 34): string => (name.length > max ? `${name.slice(0, max - 1)}…` : name);

/**
 * Stacked horizontal bars of the items' statuses per child unit, sized for a phone screen
 * (1080 px wide, large type), rendered by echarts to SVG on the server and by resvg to PNG.
 */
export function renderSummaryChart(children: ChildBreakdown[], text: ChartText): Buffer {
  const rows = [...children].reverse(); // echarts draws the first category at the bottom
  const height = Math.max(480, 260 + rows.length * 64);
  const chart = echarts().init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  const font = { fontFamily: FONT_FAMILY };
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    color: COLORS,
    textStyle: font,
    title: {
      text: text.title,
      subtext: rows.length === 0 ? `${text.subtitle}\n${text.empty}` : text.subtitle,
      left: 24,
      top: 16,
      textStyle: { ...font, fontSize: 30, fontWeight: 'bold', color: '#1d2733' },
      subtextStyle: { ...font, fontSize: 22, color: '#4a5563' },
    },
    legend: {
      top: 112,
      left: 24,
      itemWidth: 26,
      itemHeight: 18,
      textStyle: { ...font, fontSize: 22, color: '#1d2733' },
    },
    grid: { left: 24, right: 48, top: 170, bottom: 56, containLabel: true },
    xAxis: {
      type: 'value',
      minInterval: 1,
      name: text.axis,
      nameLocation: 'middle',
      nameGap: 36,
      nameTextStyle: { ...font, fontSize: 20, color: '#4a5563' },
      axisLabel: { ...font, fontSize: 20, color: '#4a5563' },
    },
    yAxis: {
      type: 'category',
      data: rows.map((row) => shorten(row.name)),
      axisLabel: { ...font, fontSize: 22, color: '#1d2733' },
    },
    series: FIELDS.map((field, index) => ({
      type: 'bar',
      name: text.series[index],
      stack: 'items',
      barWidth: 36,
      label: {
        show: true,
        ...font,
        fontSize: 18,
        color: '#ffffff',
        formatter: (params: { value: unknown }) => (Number(params.value) > 0 ? String(params.value) : ''),
      },
      data: rows.map((row) => row[field]),
    })),
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  const resvg = new (resvgJs().Resvg)(svg, {
    font: {
      fontFiles: fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
      serifFamily: FONT_FAMILY,
    },
    fitTo: { mode: 'width', value: WIDTH },
  });
  return resvg.render().asPng();
}

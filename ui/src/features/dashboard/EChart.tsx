/**
 * One Apache ECharts chart (bar and line only, tree-shaken through `echarts/core`), drawn as SVG —
 * crisp at any zoom, and each bar an element a test or an assistive tool can find. The option is
 * replaced whenever it changes; a click on a data item calls `onClick` with its series and index.
 * This module (and echarts with it) is loaded only with the dashboard page (`lazy.tsx`).
 */
import { useEffect, useRef } from 'react';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import type { EChartsCoreOption } from 'echarts/core';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export interface ChartClick {
  seriesIndex: number;
  dataIndex: number;
}

export function EChart({
  option,
  onClick,
  height = 280,
  label,
}: {
  option: EChartsCoreOption;
  onClick?: (c: ChartClick) => void;
  height?: number;
  /** What the chart shows, for assistive tools (the figure's caption says it too). */
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | undefined>(undefined);
  const click = useRef(onClick);
  click.current = onClick;

  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current, undefined, { renderer: 'svg' });
    chart.current = c;
    c.on('click', (p) => {
      const e = p as { seriesIndex?: number; dataIndex?: number };
      if (e.seriesIndex !== undefined && e.dataIndex !== undefined)
        click.current?.({ seriesIndex: e.seriesIndex, dataIndex: e.dataIndex });
    });
    const resize = new ResizeObserver(() => c.resize());
    resize.observe(el.current);
    return () => {
      resize.disconnect();
      c.dispose();
      chart.current = undefined;
    };
  }, []);

  useEffect(() => {
    // No animation: figures to read (and click) at once, the same for people who reduce motion.
    chart.current?.setOption({ animation: false, ...option }, { notMerge: true });
  }, [option]);

  return <div ref={el} className="echart" style={{ height }} role="img" aria-label={label} />;
}
